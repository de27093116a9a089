using System.Text.Json;
using NetVips;
using WsiSegment.Model.Metrics;
using WsiSegment.Tests.Support;
using WsiSegment.Tiling.Phantoms;

namespace WsiSegment.Tests.Processor.Segmentation;

/// <summary>
/// End to end with the bundled demo model on a held-out phantom (seed 5, never seen in training; generated here at
/// the size the model's other phantoms have, 6000×6000 at 0.5 µm/px): segment, then compare with its ground truth. High agreement proves extraction, training, inference
/// and stitching line up; agreement collapsing for a flipped or shifted truth proves the mask is not flipped or
/// shifted (mask pixel (x, y) covers level-0 pixel (x·d, y·d)).
/// </summary>
public class DemoModelTests
{
    [Fact]
    public void Demo_model_segments_the_held_out_phantom_in_place()
    {
        Assert.True(File.Exists(TestModels.Demo), $"{TestModels.Demo} is missing: the bundled demo model must be committed");
        using var dir = new TempDir("demo");
        var files = PhantomWriter.Write(new PhantomOptions { Width = 6000, Height = 6000, Seed = 5, Mpp = 0.5 }, dir.Path, null, default);
        string slide = files.Slide, truthPath = files.Labels;
        var r = Tool.WsiSegment("segment", slide, "-o", dir.File("out"), "--model", TestModels.Demo);
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);

        using var report = JsonDocument.Parse(File.ReadAllText(dir.File("out/phantom-5.json")));
        double d = report.RootElement.GetProperty("analysis").GetProperty("downsampleToLevel0").GetDouble();
        using var mask = Image.NewFromFile(dir.File("out/phantom-5.mask.tif"));
        var pred = mask.WriteToMemory<byte>();
        int w = mask.Width, h = mask.Height;

        // The truth at the mask's grid: mask pixel (x, y) covers level-0 pixels [x·d, (x+1)·d); take the centre one.
        using var truthImage = Image.NewFromFile(truthPath);
        var truthFull = truthImage.WriteToMemory<byte>();
        byte[] Truth(int dx, int dy, bool flipX)
        {
            var t = new byte[w * h];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int sx = flipX ? w - 1 - x : x;
                    int u = Math.Clamp((int)((sx + dx + 0.5) * d), 0, truthImage.Width - 1);
                    int v = Math.Clamp((int)((y + dy + 0.5) * d), 0, truthImage.Height - 1);
                    t[y * w + x] = truthFull[v * truthImage.Width + u];
                }
            return t;
        }
        double MeanIoU(byte[] truth)
        {
            var cm = new ConfusionMatrix(8);
            cm.Add(pred, truth);
            return cm.Score(null).MeanIoU ?? 0;
        }

        double aligned = MeanIoU(Truth(0, 0, false));
        double flipped = MeanIoU(Truth(0, 0, true));
        double shifted = MeanIoU(Truth(6, 6, false));
        Assert.True(aligned >= 0.85, $"mIoU {aligned:0.000} against the ground truth");
        Assert.True(flipped < aligned - 0.2, $"flipped truth scores {flipped:0.000} vs {aligned:0.000}");
        Assert.True(shifted < aligned - 0.02, $"truth shifted by 6 px scores {shifted:0.000} vs {aligned:0.000}");
    }
}
