using WsiSegment.Model.Training;
using WsiSegment.Processor.Training;
using WsiSegment.Tests.Support;
using WsiSegment.Tiling.Patches;

namespace WsiSegment.Tests.Model.Training;

public class PatchDatasetTests
{
    [Fact]
    public void A_good_dataset_loads_with_its_split_histogram_and_colour_statistics()
    {
        using var dir = new TempDir("ds");
        TinyPatchDataset.Write(dir.Path, classes: 5, train: 4, val: 2);
        var ds = PatchDataset.Load(dir.Path, 5, DatasetImageReader.Png, skipBad: false);
        Assert.Equal(4, ds.Train.Count);
        Assert.Equal(2, ds.Val.Count);
        Assert.Equal(4L * 64 * 64, ds.TrainHistogram.Sum());
        Assert.All(ds.TrainHistogram, n => Assert.True(n > 0));
        Assert.Equal(64, ds.PatchWidth);
        Assert.InRange(ds.Mean[0], 0.3f, 1f);
        Assert.InRange(ds.Std[0], 0.01f, 0.6f);
    }

    [Fact]
    public void A_label_value_beyond_the_classes_names_the_label_file()
    {
        using var dir = new TempDir("ds");
        TinyPatchDataset.Write(dir.Path, classes: 8, train: 3, val: 1);
        var e = Assert.Throws<DatasetFormatException>(() => PatchDataset.Load(dir.Path, 5, DatasetImageReader.Png, skipBad: false));
        // Patch n has the classes 1 + (n + r) % 7 for r = 0..3: p000 holds 1..4, p001 is the first with a 5.
        Assert.EndsWith(Path.Combine("labels", "p001.png"), e.FilePath);
        Assert.Contains("label value 5", e.Message);
        Assert.Contains("p001.png", e.Message);
    }

    [Fact]
    public void Size_mismatch_and_unreadable_images_name_their_files_and_skip_bad_drops_them()
    {
        using var dir = new TempDir("ds");
        TinyPatchDataset.Write(dir.Path, classes: 5, train: 4, val: 2);
        PatchImageFile.WritePng(Path.Combine(dir.Path, "labels", "p001.png"), new byte[32 * 32], 32, 32, 1);
        var e = Assert.Throws<DatasetFormatException>(() => PatchDataset.Load(dir.Path, 5, DatasetImageReader.Png, skipBad: false));
        Assert.EndsWith(Path.Combine("labels", "p001.png"), e.FilePath);
        Assert.Contains("32x32", e.Message);

        File.WriteAllBytes(Path.Combine(dir.Path, "images", "p002.png"), [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3, 4, 5]);
        var ds = PatchDataset.Load(dir.Path, 5, DatasetImageReader.Png, skipBad: true);
        Assert.Equal(2, ds.Train.Count);
        Assert.Equal(2, ds.Skipped.Count);
        Assert.Contains(ds.Skipped, s => s.Contains("p002.png"));

        File.Delete(Path.Combine(dir.Path, "labels", "p001.png"));
        TinyPatchDataset.Write(Path.Combine(dir.Path, "x"), 5, 1, 1); // keep p001's label valid again
        File.Copy(Path.Combine(dir.Path, "x", "labels", "p001.png"), Path.Combine(dir.Path, "labels", "p001.png"));
        var bad = Assert.Throws<DatasetFormatException>(() => PatchDataset.Load(dir.Path, 5, DatasetImageReader.Png, skipBad: false));
        Assert.EndsWith(Path.Combine("images", "p002.png"), bad.FilePath);
    }

    [Fact]
    public void Empty_or_missing_index_is_a_clear_error()
    {
        using var dir = new TempDir("ds");
        var missing = Assert.Throws<DatasetFormatException>(() => PatchDataset.Load(dir.Path, 5, DatasetImageReader.Png, false));
        Assert.Contains("index.csv", missing.Message);
        File.WriteAllText(Path.Combine(dir.Path, "index.csv"), "image,slide,x,y,level,split\n");
        var empty = Assert.Throws<DatasetFormatException>(() => PatchDataset.Load(dir.Path, 5, DatasetImageReader.Png, false));
        Assert.Contains("empty", empty.Message);
    }

    [Fact]
    public void The_train_command_reports_a_bad_file_by_name_in_one_line()
    {
        using var dir = new TempDir("ds");
        TinyPatchDataset.Write(dir.Path, classes: 8, train: 2, val: 1);
        var r = Tool.WsiSegment("train", "--patches", dir.Path, "-o", dir.File("out"), "--classes", "5", "--epochs", "1");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("p001.png", r.Stderr);
        Assert.Contains("label value", r.Stderr);
    }
}

public class BatchLoaderTests
{
    [Fact]
    public async Task A_file_that_breaks_mid_epoch_ends_the_epoch_with_its_name_or_is_skipped()
    {
        using var dir = new TempDir("loader");
        TinyPatchDataset.Write(dir.Path, classes: 5, train: 6, val: 1);
        var ds = PatchDataset.Load(dir.Path, 5, DatasetImageReader.Png, skipBad: false);
        File.WriteAllBytes(Path.Combine(dir.Path, "images", "p004.png"), [1, 2, 3]); // damaged after the up-front check
        var augmenter = new PatchAugmenter(new AugmentationOptions(), InputConvention.FromStatistics(ds.Mean, ds.Std));

        var strict = new BatchLoader(DatasetImageReader.Png, augmenter, 5, skipBad: false, log: null);
        var e = await Assert.ThrowsAsync<DatasetFormatException>(async () =>
        {
            await foreach (var _ in strict.Epoch(ds.Train, 2, 64, 1, train: true, seed: 1, epoch: 0, CancellationToken.None)) { }
        });
        Assert.EndsWith(Path.Combine("images", "p004.png"), e.FilePath);

        var lenient = new BatchLoader(DatasetImageReader.Png, augmenter, 5, skipBad: true, log: null);
        int patches = 0;
        await foreach (var b in lenient.Epoch(ds.Train, 2, 64, 8, train: true, seed: 1, epoch: 0, CancellationToken.None))
        {
            Assert.Equal(8, b.LabelSize);
            patches += b.Count;
        }
        Assert.Equal(5, patches);
    }
}
