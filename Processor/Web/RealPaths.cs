using System.Runtime.InteropServices;

namespace WsiSegment.Processor.Web;

/// <summary>
/// The served folders, and the one question that matters for safety: does this path, once every symlink and ".."
/// is resolved by the kernel (realpath), lie inside one of them? Everything served goes through <see cref="Resolve"/>.
/// </summary>
public sealed class RealPaths
{
    private readonly string[] _roots;

    public RealPaths(IEnumerable<string> roots)
    {
        _roots = roots.Select(r => RealPath(r) ?? throw new ArgumentException($"{r}: folder cannot be resolved"))
            .Select(r => r.EndsWith('/') ? r : r + "/").Distinct().ToArray();
    }

    /// <summary>The real path of an existing regular file inside a root, or null (missing, a folder, a device, or outside).</summary>
    public string? Resolve(string path)
    {
        string? real = RealPath(path);
        if (real is null || !_roots.Any(r => real.StartsWith(r, StringComparison.Ordinal))) return null;
        // Only regular files with content: a FIFO would block its reader and a device never ends; both have size 0
        // (.NET does not expose the file type), and an empty file has nothing to serve.
        var info = new FileInfo(real);
        return info.Exists && info.Length > 0 && (info.Attributes & (FileAttributes.Device | FileAttributes.Directory)) == 0 ? real : null;
    }

    [DllImport("libc", EntryPoint = "realpath", SetLastError = true)]
    private static extern IntPtr NativeRealPath([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);

    [DllImport("libc", EntryPoint = "free")]
    private static extern void Free(IntPtr p);

    public static string? RealPath(string path)
    {
        if (string.IsNullOrEmpty(path) || path.Contains('\0')) return null;
        IntPtr p = NativeRealPath(Path.GetFullPath(path), IntPtr.Zero);
        if (p == IntPtr.Zero) return null;
        try { return Marshal.PtrToStringUTF8(p); }
        finally { Free(p); }
    }
}
