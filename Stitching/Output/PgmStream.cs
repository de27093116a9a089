using System.Text;

namespace WsiSegment.Stitching.Output;

/// <summary>
/// Presents a seekable stream of row-major uint8 labels as a binary PGM (P5) file: libvips loads that from a .NET
/// stream sequentially, row by row, so a pyramid can be written while the rows are still arriving. Seekable, since
/// libvips keeps everything it reads from an unseekable source.
/// </summary>
internal sealed class PgmStream : Stream
{
    private readonly Stream _pixels;
    private readonly byte[] _header;
    private long _position;

    public PgmStream(Stream pixels, int width, int height)
    {
        if (!pixels.CanSeek) throw new ArgumentException("the label stream must be seekable", nameof(pixels));
        _pixels = pixels;
        _header = Encoding.ASCII.GetBytes($"P5\n{width} {height}\n255\n");
    }

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => _header.Length + _pixels.Length;
    public override long Position { get => _position; set => Seek(value, SeekOrigin.Begin); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n;
        if (_position < _header.Length)
        {
            n = (int)Math.Min(buffer.Length, _header.Length - _position);
            _header.AsSpan((int)_position, n).CopyTo(buffer);
        }
        else
        {
            _pixels.Position = _position - _header.Length;
            n = _pixels.Read(buffer);
        }
        _position += n;
        return n;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        long target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => Length + offset,
        };
        if (target < 0 || target > Length) throw new IOException($"seek to {target} outside a {Length}-byte PGM stream");
        return _position = target;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _pixels.Dispose();
        base.Dispose(disposing);
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
