using Microsoft.Win32.SafeHandles;
using WsiSegment.Stitching.Blending;

namespace WsiSegment.Stitching.Spooling;

/// <summary>
/// A temporary file of uint8 labels, row-major Width × Height, filled block by block with positional writes.
/// Deliberately not a memory map: every page of a map the process touches counts against its memory, and the
/// spool is as large as the analysis image. The file starts sparse (all zero = background), so pixels no block
/// covers read back as background. Deleted on dispose unless <see cref="Keep"/> was called.
/// <para>
/// A progressive spool tracks which rows are final (<see cref="RowsFinal"/>, told by the accumulator), so writers
/// can stream it through <see cref="OpenRowStream"/> while later rows are still being computed; a plain one
/// counts every row as final.
/// </para>
/// </summary>
public sealed class LabelSpool : ILabelSink, IDisposable
{
    private readonly object _gate = new();
    private SafeFileHandle? _handle;
    private bool _keep;
    private int _rowsFinal;
    private Exception? _failure;

    private LabelSpool(string path, SafeFileHandle handle, int width, int height, bool progressive)
    {
        Path = path;
        _handle = handle;
        Width = width;
        Height = height;
        _rowsFinal = progressive ? 0 : height;
    }

    public string Path { get; }
    public int Width { get; }
    public int Height { get; }
    public long Length => (long)Width * Height;

    /// <summary>Rows [0, RowsFinal) are complete.</summary>
    public int FinalRows { get { lock (_gate) return _rowsFinal; } }

    /// <summary>Creates (or truncates) the spool at <paramref name="path"/>, sized Width × Height bytes;
    /// <paramref name="progressive"/>: rows count as final only once <see cref="RowsFinal"/> says so.</summary>
    public static LabelSpool Create(string path, int width, int height, bool progressive = false)
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
            throw new IOException($"cannot create the label spool {path}: {e.Message}", e);
        }
        return new LabelSpool(path, handle, width, height, progressive);
    }

    /// <summary>Creates a spool with a unique name in <paramref name="directory"/> (default: the temp directory).</summary>
    public static LabelSpool CreateTemporary(int width, int height, string? directory = null, bool progressive = false) =>
        Create(System.IO.Path.Combine(directory ?? System.IO.Path.GetTempPath(), $"wsiseg-labels-{Guid.NewGuid():N}.u8"), width, height, progressive);

    public void RowsFinal(int rows)
    {
        lock (_gate)
        {
            _rowsFinal = Math.Clamp(Math.Max(rows, _rowsFinal), 0, Height);
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>The labels will never be finished (the run failed): readers waiting for rows get <paramref name="reason"/>.</summary>
    public void Fail(Exception reason)
    {
        lock (_gate)
        {
            _failure ??= reason;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Blocks until rows [0, <paramref name="rows"/>) are final; throws if the spool failed, was closed or
    /// <paramref name="ct"/> fired.</summary>
    public void WaitForRows(int rows, CancellationToken ct = default)
    {
        using var wake = ct.CanBeCanceled ? ct.Register(() => { lock (_gate) Monitor.PulseAll(_gate); }) : default;
        lock (_gate)
        {
            while (_rowsFinal < rows)
            {
                ct.ThrowIfCancellationRequested();
                if (_failure is not null) throw new IOException($"label spool {Path}: the labels were not finished ({_failure.Message})", _failure);
                if (_handle is null) throw new ObjectDisposedException(nameof(LabelSpool), $"label spool {Path} is closed");
                Monitor.Wait(_gate);
            }
        }
    }

    /// <summary>A read-only stream of the labels (row-major bytes) that waits for rows to be final before it hands
    /// them out: a writer can consume the spool while it is still being filled.</summary>
    public RowStream OpenRowStream(CancellationToken ct = default) => new(this, ct);

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
            throw new IOException($"cannot write the label spool {Path}: {e.Message}", e);
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
        lock (_gate)
        {
            _handle?.Dispose();
            _handle = null;
            Monitor.PulseAll(_gate);
        }
        if (!_keep)
            try { File.Delete(Path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>
    /// Sequential reads of the spool's bytes, each waiting until the rows it covers are final. Its reader is native
    /// code (libvips), where an exception cannot pass and where a short read in the middle of a TIFF pyramid crashes
    /// libvips 8.14's clean-up: a read that cannot be served records <see cref="Failure"/>, fires <see cref="Stopped"/>
    /// (for the caller to kill the libvips pipeline, which it survives) and hands out background from then on.
    /// </summary>
    public sealed class RowStream(LabelSpool spool, CancellationToken ct) : Stream
    {
        private readonly CancellationTokenSource _stopped = new();
        private long _position;

        /// <summary>Why the stream could not deliver the labels (cancelled, spool failed or closed), or null.</summary>
        public Exception? Failure { get; private set; }

        /// <summary>Fires when <see cref="Failure"/> is set.</summary>
        public CancellationToken Stopped => _stopped.Token;

        /// <summary>True once every byte of the spool has been read (and no <see cref="Failure"/> padded it).</summary>
        public bool Complete => _position == spool.Length && Failure is null;

        protected override void Dispose(bool disposing)
        {
            if (disposing) _stopped.Dispose();
            base.Dispose(disposing);
        }

        public override bool CanRead => true;
        // Seekable on purpose: libvips keeps every byte read from an unseekable source (so that it could rewind
        // after sniffing the format), which would hold the whole label image in memory.
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => spool.Length;
        public override long Position { get => _position; set => Seek(value, SeekOrigin.Begin); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            long left = spool.Length - _position;
            if (left <= 0 || buffer.IsEmpty) return 0;
            int n = (int)Math.Min(buffer.Length, left);
            int lastRow = (int)((_position + n - 1) / spool.Width);
            if (Failure is null)
            {
                try
                {
                    spool.WaitForRows(lastRow + 1, ct);
                    var handle = spool._handle ?? throw new ObjectDisposedException(nameof(LabelSpool), $"label spool {spool.Path} is closed");
                    int read = RandomAccess.Read(handle, buffer[..n], _position);
                    if (read == 0) throw new IOException($"label spool {spool.Path} ended early at byte {_position}");
                    _position += read;
                    return read;
                }
                catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
                {
                    Failure = e;
                    _stopped.Cancel();
                }
            }
            buffer[..n].Clear();
            _position += n;
            return n;
        }

        public override void Flush() { }

        public override long Seek(long offset, SeekOrigin origin)
        {
            long target = origin switch
            {
                SeekOrigin.Begin => offset,
                SeekOrigin.Current => _position + offset,
                _ => spool.Length + offset,
            };
            if (target < 0 || target > spool.Length) throw new IOException($"seek to {target} outside the {spool.Length}-byte label spool {spool.Path}");
            return _position = target;
        }

        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
