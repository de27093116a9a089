using NetVips;

namespace WsiSegment.Tiling.Slides;

/// <summary>Computes a (small, cropped) libvips image into a caller's buffer, turning decode failures into slide errors.</summary>
internal static class VipsRead
{
    /// <summary>Writes a 3-band uchar image into <paramref name="rgb"/>; throws <see cref="CorruptSlideException"/> naming the file.</summary>
    public static void Into(Image image, Span<byte> rgb, string path, string what)
    {
        long need = (long)image.Width * image.Height * image.Bands;
        if (rgb.Length < need)
            throw new ArgumentException($"buffer holds {rgb.Length} bytes, {what} needs {need}", nameof(rgb));
        IntPtr mem = IntPtr.Zero;
        try
        {
            ulong size;
            try
            {
                mem = image.WriteToMemory(out size);
            }
            catch (VipsException e)
            {
                throw new CorruptSlideException(path, $"pixel data cannot be decoded ({what}): {VipsSetup.Clean(e.Message)}", e);
            }
            if ((long)size != need)
                throw new CorruptSlideException(path, $"decoder returned {size} bytes for {what}, expected {need}");
            unsafe
            {
                new ReadOnlySpan<byte>((void*)mem, checked((int)need)).CopyTo(rgb);
            }
        }
        finally
        {
            if (mem != IntPtr.Zero)
                NetVips.NetVips.Free(mem);
        }
    }
}
