using NetVips;

namespace WsiSegment.Tests.Tiling;

/// <summary>Generated test slides for the tiling tests (small, written with libvips in seconds).</summary>
internal static class TilingImages
{
    /// <summary>libvips' xres/yres are pixels per millimetre.</summary>
    public static double PixelsPerMm(double mpp) => 1000.0 / mpp;

    /// <summary>Saves an RGB image as a tiled pyramidal TIFF (what OpenSlide's generic-tiff driver reads) with MPP tags.</summary>
    public static void SavePyramid(Image rgb, string path, double? mpp, int tile = 256, bool jpeg = false)
    {
        if (mpp is double m)
            rgb.Tiffsave(path, tile: true, tileWidth: tile, tileHeight: tile, pyramid: true,
                compression: jpeg ? Enums.ForeignTiffCompression.Jpeg : Enums.ForeignTiffCompression.Deflate, q: 90,
                resunit: Enums.ForeignTiffResunit.Cm, xres: PixelsPerMm(m), yres: PixelsPerMm(m));
        else
            rgb.Tiffsave(path, tile: true, tileWidth: tile, tileHeight: tile, pyramid: true,
                compression: jpeg ? Enums.ForeignTiffCompression.Jpeg : Enums.ForeignTiffCompression.Deflate, q: 90);
    }

    /// <summary>Uniform RGB image.</summary>
    public static Image Solid(int width, int height, byte r, byte g, byte b)
    {
        using var black = Image.Black(width, height, bands: 3);
        using var lit = black.Linear([1.0, 1.0, 1.0], [r, g, b]);
        return lit.Cast(Enums.BandFormat.Uchar);
    }

    /// <summary>Random RGB noise (every pixel distinct enough to catch any shift), deterministic for a seed.</summary>
    public static byte[] NoiseBytes(int width, int height, int seed)
    {
        var bytes = new byte[width * height * 3];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static Image FromBytes(byte[] rgb, int width, int height) =>
        Image.NewFromMemoryCopy(rgb, width, height, 3, Enums.BandFormat.Uchar);

    /// <summary>Paints an axis-aligned filled rectangle (in place on a byte buffer).</summary>
    public static void FillRect(byte[] rgb, int width, int x, int y, int w, int h, byte r, byte g, byte b)
    {
        for (int yy = y; yy < y + h; yy++)
            for (int xx = x; xx < x + w; xx++)
            {
                int i = (yy * width + xx) * 3;
                rgb[i] = r; rgb[i + 1] = g; rgb[i + 2] = b;
            }
    }
}
