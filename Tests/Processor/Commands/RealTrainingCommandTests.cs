using System.Text.Json;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Commands;

/// <summary>
/// The path a user takes with real tiles through the CLI (a small version of bench/train-real.sh): extract from the
/// real H&amp;E images and their masks with a split file, train a 2-class model (fine-tuned from the first one with
/// --init), segment the held-out image with it, score it with eval.
/// </summary>
public class RealTrainingCommandTests
{
    [SharedFact]
    public void Real_tiles_extract_train_fine_tune_segment_and_evaluate_through_the_cli()
    {
        using var dir = new TempDir("real-cli");
        // Pancreas trains, thyroid validates (the shipped split holds it out as test; here it picks the best epoch).
        File.WriteAllText(dir.File("split.tsv"), $"image\tsplit\n{CryoNuSeg.Pancreas}\ttrain\n{CryoNuSeg.Thyroid}\tval\n");
        var r = Tool.WsiSegment("extract", dir.File("ds"), CryoNuSeg.Image(CryoNuSeg.Pancreas), CryoNuSeg.Image(CryoNuSeg.Thyroid),
            "--annotations", CryoNuSeg.Mask(CryoNuSeg.Pancreas), CryoNuSeg.Mask(CryoNuSeg.Thyroid),
            "--names", CryoNuSeg.Names, "--patch", "128", "--overlap", "0", "--mpp", "1.0", "--split", dir.File("split.tsv"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("val: 1 patches", r.Stdout.Replace("val: 4 patches", "val: 1 patches")); // 129 px at 1 µm/px: 1 or 4 patches
        string[] common = ["--classes", "2", "--p", "1", "--q", "1", "--batch", "2", "--crop", "64", "--device", "cpu", "--lr", "2e-3"];

        r = Tool.WsiSegment(["train", "--patches", dir.File("ds"), "-o", dir.File("run"), "--epochs", "2", "--encoder-epochs", "1", .. common]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.True(File.Exists(dir.File("run/metrics.png")));
        Assert.True(File.Exists(dir.File("run/encoder/metrics.png")));
        using (var png = NetVips.Image.NewFromFile(dir.File("run/metrics.png")))
            Assert.Equal((800, 580), (png.Width, png.Height));

        // Fine-tune the full network from it, encoder frozen for the first epoch; MPP comes from index.csv.
        r = Tool.WsiSegment(["train", "--patches", dir.File("ds"), "-o", dir.File("tuned"), "--stage", "full", "--init", dir.File("run/best.safetensors"),
            "--freeze-encoder-epochs", "1", "--epochs", "2", .. common]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("loaded", r.Stderr);
        r = Tool.WsiSegment("model", "info", dir.File("tuned/best.safetensors"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        using (var info = JsonDocument.Parse(r.Stdout))
        {
            var card = info.RootElement.GetProperty("card");
            Assert.Equal(1.0, card.GetProperty("trained_mpp").GetDouble());
            Assert.Equal(2, card.GetProperty("decoder_esp_branches").GetInt32());
            Assert.Equal("Nucleus", card.GetProperty("classes")[1].GetProperty("name").GetString());
        }

        r = Tool.WsiSegment("segment", CryoNuSeg.Image(CryoNuSeg.Thyroid), "-o", dir.File("seg"), "--model", dir.File("tuned/best.safetensors"),
            "--no-tissue-mask", "--tile", "128", "--overlap", "32", "--device", "cpu");
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        string mask = dir.File($"seg/{CryoNuSeg.Thyroid}.mask.tif");
        Assert.True(File.Exists(mask));

        r = Tool.WsiSegment("eval", "--pred", mask, "--truth", CryoNuSeg.Mask(CryoNuSeg.Thyroid), "--resample", "--names", CryoNuSeg.Names, "--json", dir.File("scores.json"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var scores = JsonDocument.Parse(File.ReadAllText(dir.File("scores.json")));
        Assert.InRange(scores.RootElement.GetProperty("meanIoU").GetDouble(), 0, 1);
        Assert.Contains("precision", r.Stdout);
    }
}
