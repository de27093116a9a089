using NetVips;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Tests.Processor.Watch;

/// <summary>Small real image files for the watch tests, written by libvips.</summary>
public static class TestSlides
{
    /// <summary>A tiled pyramidal TIFF with MPP tags (0.5 µm/px), pinkish tissue on white with some texture.</summary>
    public static void WriteTiledTiff(string path, int size = 512, bool bigTiff = false, int seed = 1)
    {
        VipsSetup.EnsureInitialised();
        using var noise = Image.Gaussnoise(size, size, sigma: 30, mean: 128, seed: seed);
        using var r = noise * 0.4 + 140;
        using var g = noise * 0.5 + 60;
        using var b = noise * 0.4 + 130;
        using var rgb0 = r.Bandjoin(g, b);
        using var rgb = rgb0.Cast(Enums.BandFormat.Uchar);
        rgb.Tiffsave(path, tile: true, tileWidth: 256, tileHeight: 256, pyramid: true, compression: Enums.ForeignTiffCompression.Jpeg,
            xres: 2000, yres: 2000, resunit: Enums.ForeignTiffResunit.Cm, bigtiff: bigTiff);
    }

    public static void WriteJpeg(string path)
    {
        VipsSetup.EnsureInitialised();
        using var img = (Image.Black(64, 64, bands: 3) + 200).Cast(Enums.BandFormat.Uchar);
        img.Jpegsave(path);
    }

    public static void WritePng(string path)
    {
        VipsSetup.EnsureInitialised();
        using var img = (Image.Black(64, 64, bands: 3) + 200).Cast(Enums.BandFormat.Uchar);
        img.Pngsave(path);
    }

    /// <summary>The first part of a file (a copy cut short).</summary>
    public static void WriteTruncated(string source, string path, double fraction)
    {
        var whole = File.ReadAllBytes(source);
        File.WriteAllBytes(path, whole[..(int)(whole.Length * fraction)]);
    }
}
