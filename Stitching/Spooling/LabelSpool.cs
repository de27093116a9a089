using Microsoft.Win32.SafeHandles;
using WsiSegment.Stitching.Blending;
using WsiSegment.Stitching.Output;

namespace WsiSegment.Stitching.Spooling;

/// <summary>
/// A temporary file of uint8 labels, row-major Width × Height, filled block by block with positional writes.
/// Deliberately not a memory map: every page of a map the process touches counts against its memory, and the
/// spool is as large as the analysis image. The file starts sparse (all zero = background), so pixels no block
/// covers read back as background. Deleted on dispose unless <see cref="Keep"/> was called.
/// </summary>
public sealed class LabelSpool : ILabelSink, IDisposable
{
    private SafeFileHandle? _handle;
    private bool _keep;

    private LabelSpool(string path, SafeFileHandle handle, int width, int height)
    {
        Path = path;
        _handle = handle;
        Width = width;
        Height = height;
    }

    public string Path { get; }
    public int Width { get; }
    public int Height { get; }
    public long Length => (long)Width * Height;

    /// <summary>Creates (or truncates) the spool at <paramref name="path"/>, sized Width × Height bytes.</summary>
    public static LabelSpool Create(string path, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read);
            RandomAccess.SetLength(handle, (long)width * height);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw OutputWriteException.From(path, e);
        }
        return new LabelSpool(path, handle, width, height);
    }

    /// <summary>Creates a spool with a unique name in <paramref name="directory"/> (default: the temp directory).</summary>
    public static LabelSpool CreateTemporary(int width, int height, string? directory = null) =>
        Create(System.IO.Path.Combine(directory ?? System.IO.Path.GetTempPath(), $"wsiseg-labels-{Guid.NewGuid():N}.u8"), width, height);

    public void Write(int x, int y, int width, int height, ReadOnlySpan<byte> labels)
    {
        var handle = _handle ?? throw new ObjectDisposedException(nameof(LabelSpool), $"label spool {Path} is closed");
        if (x < 0 || y < 0 || width < 0 || height < 0 || x + width > Width || y + height > Height)
            throw new ArgumentOutOfRangeException(nameof(x), $"block {width}×{height} at ({x}, {y}) is outside the {Width}×{Height} spool");
        if (labels.Length < width * height)
            throw new ArgumentException($"{labels.Length} labels for a {width}×{height} block", nameof(labels));
        try
        {
            if (width == Width) // whole rows: contiguous in the file
            {
                RandomAccess.Write(handle, labels[..(width * height)], (long)y * Width);
                return;
            }
            for (int row = 0; row < height; row++)
                RandomAccess.Write(handle, labels.Slice(row * width, width), (long)(y + row) * Width + x);
        }
        catch (IOException e)
        {
            throw OutputWriteException.From(Path, e);
        }
    }

    /// <summary>Reads rows [y, y + rows) into <paramref name="destination"/> (rows × Width bytes).</summary>
    public void ReadRows(int y, int rows, Span<byte> destination)
    {
        var handle = _handle ?? throw new ObjectDisposedException(nameof(LabelSpool), $"label spool {Path} is closed");
        if (y < 0 || rows < 0 || y + rows > Height) throw new ArgumentOutOfRangeException(nameof(y), $"rows [{y}, {y + rows}) outside 0..{Height}");
        long want = (long)rows * Width;
        if (destination.Length < want) throw new ArgumentException($"buffer of {destination.Length} bytes for {want}", nameof(destination));
        var span = destination[..(int)want];
        long offset = (long)y * Width;
        while (!span.IsEmpty)
        {
            int n = RandomAccess.Read(handle, span, offset);
            if (n == 0) throw new IOException($"label spool {Path} ended early at byte {offset}");
            span = span[n..];
            offset += n;
        }
    }

    /// <summary>Keep the file after dispose (e.g. for debugging).</summary>
    public void Keep() => _keep = true;

    public void Dispose()
    {
        _handle?.Dispose();
        _handle = null;
        if (!_keep)
            try { File.Delete(Path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
