using WsiSegment.Stitching.Output;
using WsiSegment.Stitching.Spooling;
using WsiSegment.Core.Classes;

namespace WsiSegment.Tests.Stitching;

/// <summary>A known label layout: 150-px blocks of classes {0, 1, 3, 5} and a patch of alternating 1/3 columns
/// (whose mean, 2, is a label that does not exist: mode shrinking must never produce it).</summary>
internal static class TestLabels
{
    public static readonly byte[] Present = [0, 1, 3, 5];

    public static readonly ClassTable Classes = new(
    [
        new("Background", new Rgb(255, 255, 255)), new("Tumor", new Rgb(200, 0, 0)), new("Stroma", new Rgb(0, 150, 0)),
        new("Necrosis", new Rgb(0, 0, 200)), new("Fat", new Rgb(230, 200, 0)), new("Immune", new Rgb(150, 0, 150)),
        new("Mucin", new Rgb(0, 180, 180)), new("Other", new Rgb(90, 90, 90)),
    ]);

    public static byte At(int x, int y)
    {
        if (x >= 600 && x < 900 && y >= 400 && y < 700) return (byte)(x % 2 == 0 ? 1 : 3);
        return Present[(x / 150 + y / 150) % 4];
    }

    public static byte[] Image(int width, int height)
    {
        var labels = new byte[width * height];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++) labels[y * width + x] = At(x, y);
        return labels;
    }

    public static LabelSpool Spool(string path, int width, int height)
    {
        var spool = LabelSpool.Create(path, width, height);
        spool.Write(0, 0, width, height, Image(width, height));
        return spool;
    }
}
