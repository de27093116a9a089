using System.Runtime.InteropServices;

namespace WsiSegment.Stitching.Blending;

/// <summary>
/// A zeroed buffer of unmanaged values outside both the GC heap and the malloc heap (an anonymous memory map on
/// Linux), freed deterministically. The accumulator's carry strip grows with the slide's width. As a managed array its memory stayed with the GC after the stream. In the malloc heap (tuned never to shrink, one arena) it
/// sat between libtorch's activations and libvips' tiles, and the heap around it grew by more than the strip itself
/// on wide slides. A map of its own costs exactly its size and goes back to the kernel when disposed.
/// </summary>
internal sealed unsafe class NativeBuffer<T> : IDisposable where T : unmanaged
{
    private T* _data;
    private readonly nuint _bytes;
    private readonly bool _mapped;

    public NativeBuffer(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        _bytes = (nuint)Math.Max(1, length) * (nuint)sizeof(T);
        if (OperatingSystem.IsLinux())
        {
            void* p = AnonymousMap.Map(_bytes);
            if (p is null)
                throw new OutOfMemoryException($"cannot map {_bytes} bytes for the carry strip (errno {Marshal.GetLastPInvokeError()})");
            _data = (T*)p; // anonymous maps are zero-filled
            _mapped = true;
        }
        else
            _data = (T*)NativeMemory.AllocZeroed(_bytes);
    }

    public int Length { get; }

    public Span<T> AsSpan(int start, int length)
    {
        ObjectDisposedException.ThrowIf(_data is null, this);
        if ((uint)start > (uint)Length || (uint)length > (uint)(Length - start))
            throw new ArgumentOutOfRangeException(nameof(start), $"[{start}, {start + length}) outside a buffer of {Length}");
        return new Span<T>(_data + start, length);
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    ~NativeBuffer() => Free();

    private void Free()
    {
        if (_data is null) return;
        if (_mapped) AnonymousMap.Unmap(_data, _bytes);
        else NativeMemory.Free(_data);
        _data = null;
    }

}

/// <summary>Anonymous memory maps (libc mmap/munmap): zero-filled pages, returned to the kernel on unmap.</summary>
internal static unsafe class AnonymousMap
{
    private const int ProtRead = 1, ProtWrite = 2, MapPrivate = 2, MapAnonymous = 0x20;

    /// <summary>A zeroed map of <paramref name="bytes"/>, or null when the kernel refuses.</summary>
    public static void* Map(nuint bytes)
    {
        void* p = mmap(null, bytes, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        return p == (void*)-1 ? null : p;
    }

    public static void Unmap(void* p, nuint bytes) => munmap(p, bytes);

    [DllImport("libc", SetLastError = true)]
    private static extern void* mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

    [DllImport("libc")]
    private static extern int munmap(void* addr, nuint length);
}
