using NetVips;

namespace WsiSegment.Tests.Processor.Web;

/// <summary>Pixels of images as plain arrays (row-major, interleaved bands), read through libvips.</summary>
public static class Pixels
{
    public static (byte[] Data, int Width, int Height, int Bands) Decode(byte[] encoded)
    {
        using var img = Image.NewFromBuffer(encoded);
        return (img.WriteToMemory<byte>(), img.Width, img.Height, img.Bands);
    }

    public static byte[] Region(string file, int page, int x, int y, int w, int h)
    {
        using var img = Image.Tiffload(file, page: page, access: Enums.Access.Random);
        using var crop = img.Crop(x, y, w, h);
        return crop.WriteToMemory<byte>();
    }
}
