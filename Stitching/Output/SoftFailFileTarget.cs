using NetVips;

namespace WsiSegment.Stitching.Output;

/// <summary>
/// A file as a libvips target that never reports a failed write back to libvips. libvips 8.14 crashes (a NULL call
/// in vips_target_seek during TIFFClose) when a TIFF save's writes fail half-way, as on a full disk; here the
/// first I/O error is kept, the rest of the save is discarded, and <see cref="ThrowIfFailed"/> raises it afterwards.
/// </summary>
internal sealed class SoftFailFileTarget : IDisposable
{
    private readonly FileStream _file;
    private readonly string _path, _temporary;
    private Exception? _error;

    /// <param name="path">The file written.</param>
    /// <param name="name">The file errors name (the final name of a temporary file).</param>
    public SoftFailFileTarget(string path, string name)
    {
        _path = name;
        _temporary = path;
        _file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16);
        Target = new TargetCustom();
        Target.OnWrite += Write;
        Target.OnRead += Read;
        Target.OnSeek += Seek;
        Target.OnEnd += End;
    }

    public TargetCustom Target { get; }

    /// <summary>Throws the first I/O error the save met, naming the file.</summary>
    public void ThrowIfFailed()
    {
        if (_error is not null) throw OutputWriteException.From(_path, _error, _temporary);
    }

    public void Dispose()
    {
        Target.Dispose();
        try { _file.Dispose(); }
        catch (IOException) { } // the error, if any, was kept already
    }

    // Position and length are tracked here as well, so that seeks still answer after the file has failed: libvips
    // crashes on a failed seek too.
    private long _position, _length;

    private long Write(byte[] buffer, int length)
    {
        if (_error is null)
        {
            try { _file.Write(buffer, 0, length); }
            catch (IOException e) { _error = e; }
        }
        _position += length;
        _length = Math.Max(_length, _position);
        return length;
    }

    private int Read(byte[] buffer, int length)
    {
        if (_error is not null) return 0;
        try
        {
            int n = _file.Read(buffer, 0, length);
            _position += n;
            return n;
        }
        catch (IOException e) { _error = e; return 0; }
    }

    private long Seek(long offset, SeekOrigin origin)
    {
        long to = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => _length + offset,
        };
        if (to < 0) return -1;
        if (_error is null)
        {
            try { _file.Seek(to, SeekOrigin.Begin); }
            catch (IOException e) { _error = e; }
        }
        _position = to;
        return to;
    }

    private int End()
    {
        if (_error is null)
        {
            try { _file.Flush(flushToDisk: false); }
            catch (IOException e) { _error = e; }
        }
        return 0;
    }
}
