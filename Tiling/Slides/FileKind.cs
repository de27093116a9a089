using System.Runtime.InteropServices;

namespace WsiSegment.Tiling.Slides;

/// <summary>What a path is on disc, asked of the kernel with stat(2) (never by opening it: opening a FIFO blocks until
/// a writer comes, and reading a link to /dev/zero never ends).</summary>
public enum FileKindValue
{
    Regular,
    Directory,
    Fifo,
    Socket,
    CharacterDevice,
    BlockDevice,
    Missing,
    BrokenLink,
    LinkLoop,
    Other,
}

/// <summary>A path's kind (following symbolic links) and, for a regular file, its size.</summary>
public readonly record struct FileKind(FileKindValue Value, long Size, bool ViaLink)
{
    /// <summary>Why a slide cannot be this, for one line of output; null for a regular file.</summary>
    public string? Rejection => Value switch
    {
        FileKindValue.Regular => null,
        FileKindValue.Directory => "is a directory, not a slide file",
        FileKindValue.Fifo => Link + "a FIFO (named pipe), not a regular file; not opened",
        FileKindValue.Socket => Link + "a socket, not a regular file; not opened",
        FileKindValue.CharacterDevice => Link + "a character device, not a regular file; not opened",
        FileKindValue.BlockDevice => Link + "a block device, not a regular file; not opened",
        FileKindValue.Missing => "no such file",
        FileKindValue.BrokenLink => "is a symbolic link to nothing (dangling)",
        FileKindValue.LinkLoop => "is a symbolic link loop (too many levels of links)",
        _ => Link + "not a regular file; not opened",
    };

    private string Link => ViaLink ? "is a symbolic link to " : "is ";

    private const int ENOENT = 2, ELOOP = 40;
    private const uint S_IFMT = 0xF000, S_IFSOCK = 0xC000, S_IFLNK = 0xA000, S_IFREG = 0x8000, S_IFBLK = 0x6000,
        S_IFDIR = 0x4000, S_IFCHR = 0x2000, S_IFIFO = 0x1000;

    public static FileKind Of(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!OperatingSystem.IsLinux())
        {
            // Elsewhere fall back to what .NET can tell (no FIFO detection).
            if (Directory.Exists(path)) return new(FileKindValue.Directory, 0, false);
            return File.Exists(path) ? new(FileKindValue.Regular, new FileInfo(path).Length, false) : new(FileKindValue.Missing, 0, false);
        }
        bool link = Stat(path, follow: false, out uint lmode, out _, out int lerr) && (lmode & S_IFMT) == S_IFLNK;
        if (!link && lerr == ENOENT) return new(FileKindValue.Missing, 0, false);
        if (!Stat(path, follow: true, out uint mode, out long size, out int err))
            return new(err == ELOOP ? FileKindValue.LinkLoop : err == ENOENT && link ? FileKindValue.BrokenLink : err == ENOENT ? FileKindValue.Missing : FileKindValue.Other, 0, link);
        var value = (mode & S_IFMT) switch
        {
            S_IFREG => FileKindValue.Regular,
            S_IFDIR => FileKindValue.Directory,
            S_IFIFO => FileKindValue.Fifo,
            S_IFSOCK => FileKindValue.Socket,
            S_IFCHR => FileKindValue.CharacterDevice,
            S_IFBLK => FileKindValue.BlockDevice,
            _ => FileKindValue.Other,
        };
        return new(value, value == FileKindValue.Regular ? size : 0, link);
    }

    /// <summary>statx(2) with the mode and size only: one layout on every Linux architecture (unlike struct stat).</summary>
    private static unsafe bool Stat(string path, bool follow, out uint mode, out long size, out int errno)
    {
        const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, STATX_TYPE = 1, STATX_MODE = 2, STATX_SIZE = 0x200;
        byte* buffer = stackalloc byte[256];
        int rc = statx(AT_FDCWD, path, follow ? 0 : AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_MODE | STATX_SIZE, buffer);
        if (rc != 0)
        {
            (mode, size, errno) = (0, 0, Marshal.GetLastPInvokeError());
            return false;
        }
        // struct statx: stx_mode is a __u16 at offset 28, stx_size a __u64 at offset 40.
        mode = *(ushort*)(buffer + 28);
        size = *(long*)(buffer + 40);
        errno = 0;
        return true;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern unsafe int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mask, byte* buffer);
}
