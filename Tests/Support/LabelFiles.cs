using NetVips;

namespace WsiSegment.Tests.Support;

/// <summary>Small label and RGB images written and read back with libvips for the dataset/eval tests.</summary>
public static class LabelFiles
{
    public static void WritePng(string path, byte[] labels, int width, int height)
    {
        using var image = Image.NewFromMemory(labels, width, height, 1, Enums.BandFormat.Uchar);
        image.Pngsave(path);
    }

    public static void WriteTiff(string path, byte[] labels, int width, int height, bool pyramid = false)
    {
        using var image = Image.NewFromMemory(labels, width, height, 1, Enums.BandFormat.Uchar);
        image.Tiffsave(path, compression: Enums.ForeignTiffCompression.Deflate, tile: true, tileWidth: 64, tileHeight: 64,
            pyramid: pyramid, regionShrink: Enums.RegionShrink.Mode);
    }

    /// <summary>All pixels of a single-band image (any loader), row-major.</summary>
    public static byte[] Read(string path, int page = 0)
    {
        using var image = page == 0 ? Image.NewFromFile(path) : Image.Tiffload(path, page: page);
        return image.WriteToMemory<byte>();
    }

    public static (int Width, int Height, int Bands) Size(string path)
    {
        using var image = Image.NewFromFile(path);
        return (image.Width, image.Height, image.Bands);
    }

    /// <summary>A rectangle of class <paramref name="value"/> on a zero background.</summary>
    public static byte[] Rectangle(int width, int height, int x0, int y0, int x1, int y1, byte value)
    {
        var b = new byte[width * height];
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++) b[y * width + x] = value;
        return b;
    }
}
