using System.Text;

namespace WsiSegment.Stitching.Output;

/// <summary>
/// Presents a stream of row-major uint8 labels as a binary PGM (P5) file: libvips loads that from a .NET stream
/// sequentially, row by row, so a pyramid can be written while the rows are still arriving.
/// </summary>
internal sealed class PgmStream(Stream pixels, int width, int height) : Stream
{
    private readonly byte[] _header = Encoding.ASCII.GetBytes($"P5\n{width} {height}\n255\n");
    private int _headerSent;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _header.Length + (long)width * height;
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_headerSent < _header.Length)
        {
            int n = Math.Min(buffer.Length, _header.Length - _headerSent);
            _header.AsSpan(_headerSent, n).CopyTo(buffer);
            _headerSent += n;
            return n;
        }
        return pixels.Read(buffer);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) pixels.Dispose();
        base.Dispose(disposing);
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
