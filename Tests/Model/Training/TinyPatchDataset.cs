using System.Globalization;
using System.Text;
using WsiSegment.Tiling.Patches;

namespace WsiSegment.Tests.Model.Training;

/// <summary>
/// Writes a small patch dataset in the `extract` layout: 64×64 RGB patches of a white background (class 0) with a
/// few solid, slightly noisy coloured rectangles, one colour per class, and the matching label maps.
/// </summary>
public static class TinyPatchDataset
{
    public static readonly byte[][] Colours =
    [
        [245, 245, 245], [200, 40, 60], [60, 60, 200], [40, 170, 60], [230, 200, 40], [150, 60, 170], [40, 200, 200], [120, 80, 40],
    ];

    public static void Write(string root, int classes, int train, int val, int size = 64, int seed = 3)
    {
        Directory.CreateDirectory(Path.Combine(root, "images"));
        Directory.CreateDirectory(Path.Combine(root, "labels"));
        var random = new Random(seed);
        var index = new StringBuilder("image,slide,x,y,level,split\n");
        for (int n = 0; n < train + val; n++)
        {
            var labels = new byte[size * size];
            for (int r = 0; r < 4; r++)
            {
                int cls = 1 + (n + r) % (classes - 1);
                int w = random.Next(size / 5, size / 2), h = random.Next(size / 5, size / 2);
                int x0 = random.Next(0, size - w), y0 = random.Next(0, size - h);
                for (int y = y0; y < y0 + h; y++)
                    for (int x = x0; x < x0 + w; x++)
                        labels[y * size + x] = (byte)cls;
            }
            var rgb = new byte[size * size * 3];
            for (int i = 0; i < labels.Length; i++)
                for (int c = 0; c < 3; c++)
                    rgb[i * 3 + c] = (byte)Math.Clamp(Colours[labels[i]][c] + random.Next(-12, 13), 0, 255);
            string name = $"p{n:D3}.png";
            PatchImageFile.WritePng(Path.Combine(root, "images", name), rgb, size, size, 3);
            PatchImageFile.WritePng(Path.Combine(root, "labels", name), labels, size, size, 1);
            string split = n < train ? "train" : "val";
            index.Append(CultureInfo.InvariantCulture, $"{name},{(n < train ? "slideA" : "slideB")},{n * size},0,0,{split}\n");
        }
        File.WriteAllText(Path.Combine(root, "index.csv"), index.ToString());
    }
}
