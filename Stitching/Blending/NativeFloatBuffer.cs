using System.Runtime.InteropServices;

namespace WsiSegment.Stitching.Blending;

/// <summary>
/// A zeroed float buffer in native (malloc) memory, freed deterministically. The accumulator's carry strip grows
/// with the slide's width (164 MB at 40,000 px); as a managed array its memory stayed with the GC after the stream,
/// while the overlay's libvips writer that runs next allocates through malloc — freed here, that writer reuses it.
/// </summary>
internal sealed unsafe class NativeFloatBuffer : IDisposable
{
    private float* _data;

    public NativeFloatBuffer(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        _data = (float*)NativeMemory.AllocZeroed((nuint)Math.Max(1, length), sizeof(float));
    }

    public int Length { get; }

    public Span<float> AsSpan(int start, int length)
    {
        ObjectDisposedException.ThrowIf(_data is null, this);
        if ((uint)start > (uint)Length || (uint)length > (uint)(Length - start))
            throw new ArgumentOutOfRangeException(nameof(start), $"[{start}, {start + length}) outside a buffer of {Length}");
        return new Span<float>(_data + start, length);
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    ~NativeFloatBuffer() => Free();

    private void Free()
    {
        if (_data is null) return;
        NativeMemory.Free(_data);
        _data = null;
    }
}
