using System.Runtime.InteropServices;

namespace WsiSegment.Stitching.Blending;

/// <summary>
/// A zeroed float buffer outside both the GC heap and the malloc heap (an anonymous memory map on Linux), freed
/// deterministically. The accumulator's carry strip grows with the slide's width (164 MB at 40,000 px). As a managed
/// array its memory stayed with the GC after the stream. In the malloc heap (tuned never to shrink, one arena) it
/// sat between libtorch's activations and libvips' tiles, and the heap around it grew by more than the strip itself
/// on wide slides. A map of its own costs exactly its size and goes back to the kernel when disposed.
/// </summary>
internal sealed unsafe class NativeFloatBuffer : IDisposable
{
    private float* _data;
    private readonly nuint _bytes;
    private readonly bool _mapped;

    public NativeFloatBuffer(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        _bytes = (nuint)Math.Max(1, length) * sizeof(float);
        if (OperatingSystem.IsLinux())
        {
            void* p = mmap(null, _bytes, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
            if (p == (void*)-1)
                throw new OutOfMemoryException($"cannot map {_bytes} bytes for the carry strip (errno {Marshal.GetLastPInvokeError()})");
            _data = (float*)p; // anonymous maps are zero-filled
            _mapped = true;
        }
        else
            _data = (float*)NativeMemory.AllocZeroed(_bytes);
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
        if (_mapped) munmap(_data, _bytes);
        else NativeMemory.Free(_data);
        _data = null;
    }

    private const int ProtRead = 1, ProtWrite = 2, MapPrivate = 2, MapAnonymous = 0x20;

    [DllImport("libc", SetLastError = true)]
    private static extern void* mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

    [DllImport("libc")]
    private static extern int munmap(void* addr, nuint length);
}
