using Microsoft.Extensions.Logging.Abstractions;
using WsiSegment.Model.Training;
using WsiSegment.Model.Weights;
using WsiSegment.Processor.Training;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Model.Training;

public class TrainerTests
{
    private static TrainingOptions Options(string data, string output, int epochs, TrainingStage stage, bool resume = false) => new()
    {
        PatchesDirectory = data,
        OutputDirectory = output,
        Stage = stage,
        Epochs = epochs,
        EncoderEpochs = 2,
        Classes = 5,
        P = 1,
        Q = 1,
        BatchSize = 4,
        LearningRate = 5e-3,
        Device = "cpu",
        Seed = 11,
        Resume = resume,
    };

    private static IReadOnlyList<StageResult> Train(TrainingOptions options)
    {
        var ds = PatchDataset.Load(options.PatchesDirectory, options.Classes, DatasetImageReader.Png, options.SkipBad);
        return new Trainer(options, ds, DatasetImageReader.Png, NullLogger.Instance).Run(CancellationToken.None);
    }

    [Fact]
    public void A_short_two_stage_run_lowers_the_loss_and_beats_chance_mIoU()
    {
        using var dir = new TempDir("train");
        TinyPatchDataset.Write(dir.File("data"), classes: 5, train: 12, val: 4);
        var results = Train(Options(dir.File("data"), dir.File("out"), epochs: 12, TrainingStage.Both));
        Assert.Equal(2, results.Count);
        var full = results[1];
        Assert.Equal(TrainingStage.Full, full.Stage);
        Assert.True(full.Epochs[^1].TrainLoss < full.Epochs[0].TrainLoss * 0.8,
            $"train loss {full.Epochs[0].TrainLoss:0.000} -> {full.Epochs[^1].TrainLoss:0.000}");
        // Chance (uniform guessing over 5 classes) scores an mIoU near 0.1.
        Assert.True(full.BestMeanIoU > 0.4, $"best val mIoU {full.BestMeanIoU:0.000}");
        Assert.True(File.Exists(dir.File("out/encoder/best.safetensors")));
        Assert.True(File.Exists(dir.File("out/best.safetensors")));
        using var loaded = Checkpoint.Load(dir.File("out/best.safetensors"));
        Assert.Equal("espnet", loaded.Card.Architecture);
        Assert.Equal(64, loaded.Card.TrainedPatchSize);
        Assert.Contains("12 training patches", loaded.Card.TrainingData);
        var csv = File.ReadAllLines(dir.File("out/metrics.csv"));
        Assert.StartsWith("stage,epoch,lr,train_loss,val_loss,val_miou", csv[0]);
        Assert.Equal(13, csv.Length);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Two_and_three_class_models_train_and_their_checkpoints_load(int classes)
    {
        using var dir = new TempDir("train-small");
        TinyPatchDataset.Write(dir.File("data"), classes: classes, train: 4, val: 2);
        var results = Train(Options(dir.File("data"), dir.File("out"), epochs: 2, TrainingStage.Both) with { Classes = classes, EncoderEpochs = 1 });
        Assert.All(results[1].Epochs, e => Assert.True(double.IsFinite(e.TrainLoss) && double.IsFinite(e.ValLoss)));
        using var loaded = Checkpoint.Load(dir.File("out/best.safetensors"));
        Assert.Equal(classes, loaded.Card.ClassCount);
        Assert.Equal(classes, loaded.Card.DecoderEspBranches);
    }

    [Fact]
    public void Resume_continues_from_the_saved_epoch_and_optimizer_state()
    {
        using var dir = new TempDir("resume");
        TinyPatchDataset.Write(dir.File("data"), classes: 5, train: 8, val: 2);
        string data = dir.File("data");
        Train(Options(data, dir.File("straight"), epochs: 3, TrainingStage.Encoder) with { EncoderEpochs = 3 });
        Train(Options(data, dir.File("resumed"), epochs: 2, TrainingStage.Encoder) with { EncoderEpochs = 2 });
        var resumed = Train(Options(data, dir.File("resumed"), epochs: 3, TrainingStage.Encoder, resume: true) with { EncoderEpochs = 3 });
        Assert.Single(resumed[0].Epochs);
        Assert.Equal(3, resumed[0].Epochs[0].Epoch);
        Assert.Equal(4, File.ReadAllLines(dir.File("resumed/metrics.csv")).Length);

        // Same seed, same batches: two epochs + resume must land on the uninterrupted run's weights. A resume that
        // restarted Adam's moments and step count would not.
        var a = SafetensorsFile.Read(dir.File("straight/last.safetensors")).ByName;
        var b = SafetensorsFile.Read(dir.File("resumed/last.safetensors")).ByName;
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (name, ta) in a)
        {
            if (name.EndsWith("num_batches_tracked", StringComparison.Ordinal)) { Assert.Equal(ta.Data, b[name].Data); continue; }
            using var x = ta.ToTensor();
            using var y = b[name].ToTensor();
            Assert.True(TorchSharp.torch.allclose(x, y, rtol: 1e-3, atol: 1e-5), $"{name} differs after resume");
        }
    }

    [Fact]
    public void Init_loads_matching_tensors_from_another_class_count_and_freezing_holds_the_encoder()
    {
        using var dir = new TempDir("init");
        TinyPatchDataset.Write(dir.File("data5"), classes: 5, train: 4, val: 2);
        TinyPatchDataset.Write(dir.File("data3"), classes: 3, train: 4, val: 2);
        Train(Options(dir.File("data5"), dir.File("five"), epochs: 1, TrainingStage.Both) with { EncoderEpochs = 1 });

        // 5 classes -> 3: the full stage straight from the 5-class ESPNet, its encoder frozen for the one epoch.
        var results = Train(Options(dir.File("data3"), dir.File("three"), epochs: 1, TrainingStage.Full) with
        {
            Classes = 3, InitCheckpoint = dir.File("five/best.safetensors"), FreezeEncoderEpochs = 1,
        });
        Assert.Single(results);
        using var init = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.File("three/init.json")));
        var loaded = init.RootElement.GetProperty("loaded").EnumerateArray().Select(e => e.GetString()!).ToList();
        var fresh = init.RootElement.GetProperty("reinitialised").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains("encoder.level1.conv.weight", loaded);
        Assert.Contains(fresh, f => f.StartsWith("encoder.classifier.conv.weight: file [5, 256, 1, 1] vs network [3, 256, 1, 1]", StringComparison.Ordinal));
        Assert.Contains(fresh, f => f.StartsWith("classifier.weight:", StringComparison.Ordinal));
        Assert.DoesNotContain(loaded, n => n.StartsWith("classifier.", StringComparison.Ordinal));

        var before = SafetensorsFile.Read(dir.File("five/best.safetensors")).ByName;
        var after = SafetensorsFile.Read(dir.File("three/last.safetensors")).ByName;
        // Frozen: the loaded encoder convolutions are bit for bit the 5-class model's; the new classifier trained.
        Assert.Equal(before["encoder.level2.0.c1.conv.weight"].Data, after["encoder.level2.0.c1.conv.weight"].Data);
        Assert.Equal(before["encoder.level3.0.d16.conv.weight"].Data, after["encoder.level3.0.d16.conv.weight"].Data);
        Assert.Equal(new long[] { 3, 256, 1, 1 }, after["encoder.classifier.conv.weight"].Shape);
    }
}
