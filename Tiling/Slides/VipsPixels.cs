using NetVips;

namespace WsiSegment.Tiling.Slides;

/// <summary>
/// The pixels of a computed libvips image (a crop, usually) in the memory libvips decoded them into: one decode and no
/// managed copy until the caller takes one. Every read of decoded pixels in Tiling goes through here, so a failing
/// decode and a short result are reported alike. Frees the memory on dispose.
/// </summary>
/// <remarks>A decode failure or a short result is turned into the caller's exception by <c>fail(reason, inner)</c>,
/// so that each reader names its own file and region.</remarks>
internal sealed unsafe class VipsPixels : IDisposable
{
    private IntPtr _memory;

    private VipsPixels(IntPtr memory, long length)
    {
        _memory = memory;
        Length = length;
    }

    /// <summary>Bytes held: width × height × bands × bytes per sample.</summary>
    public long Length { get; }

    /// <summary>The pixels, row-major and band-interleaved. Valid until disposed.</summary>
    public ReadOnlySpan<byte> Span => new((void*)Address, checked((int)Length));

    /// <summary>Start of the pixels, for callers that cut patches out of a larger region by hand. Valid until disposed.</summary>
    public byte* Address => _memory != IntPtr.Zero ? (byte*)_memory : throw new ObjectDisposedException(nameof(VipsPixels));

    /// <summary>Computes <paramref name="image"/> into libvips memory.</summary>
    public static VipsPixels Compute(Image image, Func<string, Exception?, Exception> fail)
    {
        long need = ByteLength(image);
        IntPtr memory;
        ulong size;
        try
        {
            memory = image.WriteToMemory(out size);
        }
        catch (VipsException e)
        {
            throw fail(VipsSetup.Clean(e.Message), e);
        }
        if ((long)size != need)
        {
            NetVips.NetVips.Free(memory);
            throw fail($"decoder returned {size} bytes, expected {need}", null);
        }
        return new VipsPixels(memory, need);
    }

    /// <summary>Computes <paramref name="image"/> into <paramref name="destination"/> (at least <see cref="ByteLength"/> bytes).</summary>
    public static void CopyTo(Image image, Span<byte> destination, Func<string, Exception?, Exception> fail)
    {
        long need = ByteLength(image);
        if (destination.Length < need)
            throw new ArgumentException($"buffer holds {destination.Length} bytes, a {image.Width}x{image.Height} region of {image.Bands} band(s) needs {need}", nameof(destination));
        using var pixels = Compute(image, fail);
        pixels.Span.CopyTo(destination);
    }

    /// <summary>Width × height × bands × bytes per sample.</summary>
    public static long ByteLength(Image image) => (long)image.Width * image.Height * image.Bands * image.Format switch
    {
        Enums.BandFormat.Uchar or Enums.BandFormat.Char => 1,
        Enums.BandFormat.Ushort or Enums.BandFormat.Short => 2,
        Enums.BandFormat.Uint or Enums.BandFormat.Int or Enums.BandFormat.Float => 4,
        Enums.BandFormat.Double or Enums.BandFormat.Complex => 8,
        Enums.BandFormat.Dpcomplex => 16,
        var f => throw new ArgumentException($"internal: unknown band format {f}", nameof(image)),
    };

    public void Dispose()
    {
        if (_memory == IntPtr.Zero) return;
        NetVips.NetVips.Free(_memory);
        _memory = IntPtr.Zero;
    }
}
