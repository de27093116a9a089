using Microsoft.Extensions.Logging.Abstractions;
using WsiSegment.Model;
using WsiSegment.Model.Cards;
using WsiSegment.Model.Inference;
using WsiSegment.Model.Network;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Training;
using WsiSegment.Model.Weights;
using WsiSegment.Processor.Training;
using WsiSegment.Tests.Support;
using static TorchSharp.torch;

namespace WsiSegment.Tests.Model.Training;

/// <summary>
/// Training feeds the network in the input convention its starting weights were trained with, records it in the
/// card, and inference applies exactly that convention; a dataset mixing resolutions is refused.
/// </summary>
public class InputConventionTests
{
    public InputConventionTests() => TorchRuntime.Initialise();

    public static TheoryData<string> Conventions => ["cityscapes", "statistics"];

    private static InputNormalisation Convention(string name) => name == "cityscapes"
        ? InputNormalisation.AuthorsCityscapes
        : InputConvention.FromStatistics([0.71f, 0.52f, 0.66f], [0.13f, 0.2f, 0.17f]);

    [Theory]
    [MemberData(nameof(Conventions))]
    public void The_augmenters_validation_view_is_what_the_inference_engine_feeds_the_network(string name)
    {
        var normalisation = Convention(name);
        int size = 24;
        var rgb = new byte[size * size * 3];
        new Random(7).NextBytes(rgb);
        var image = new DecodedImage(rgb, size, size, 3);
        var labels = new DecodedImage(new byte[size * size], size, size, 1);
        var input = new float[3 * size * size];
        new PatchAugmenter(AugmentationOptions.None, normalisation).Apply(image, labels, size, null, input, new byte[size * size]);

        using var random = Inference.InferenceEngineTests.RandomModel(ModelArchitecture.EspNet, classes: 5);
        using var model = new LoadedModel(random.Network, random.Card with { Normalisation = normalisation }, "random");
        using var engine = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu" });
        using var scope = NewDisposeScope();
        using var normalised = engine.NormaliseRgb(rgb, 1, size, size);
        var expected = normalised.Tensor.data<float>().ToArray();
        Assert.Equal(expected.Length, input.Length);
        double maxDiff = expected.Zip(input).Max(p => Math.Abs(p.First - p.Second));
        double range = expected.Max() - expected.Min();
        Assert.True(maxDiff <= 1e-6 * range, $"max |Δ| {maxDiff:G3} over a range of {range:G3}");
        if (normalisation.ChannelOrder == ChannelOrder.BGR)
        {
            // Network channel 0 is blue: pixel 0's blue byte, normalised by the first (blue) mean and std.
            double blue = (rgb[2] - normalisation.Mean[0]) / normalisation.Std[0] * normalisation.Scale;
            Assert.Equal(blue, input[0], 6);
        }
    }

    private static TrainingOptions Options(string data, string output, TrainingStage stage) => new()
    {
        PatchesDirectory = data, OutputDirectory = output, Stage = stage, Epochs = 1, EncoderEpochs = 1, Classes = 3, P = 1, Q = 1,
        BatchSize = 4, Device = "cpu", Seed = 5,
    };

    private static void Train(TrainingOptions options)
    {
        var ds = PatchDataset.Load(options.PatchesDirectory, options.Classes, DatasetImageReader.Png, skipBad: false);
        new Trainer(options, ds, DatasetImageReader.Png, NullLogger.Instance).Run(CancellationToken.None);
    }

    private static InputNormalisation CardNormalisation(string checkpoint)
    {
        using var loaded = Checkpoint.Load(checkpoint);
        return loaded.Card.Normalisation;
    }

    private static void AssertSame(InputNormalisation expected, InputNormalisation actual) =>
        Assert.True(InputConvention.SameConvention(expected, actual),
            $"expected {InputConvention.Describe(expected)}, got {InputConvention.Describe(actual)}");

    [Fact]
    public void Fine_tuning_keeps_the_initial_weights_convention_and_scratch_training_uses_the_datasets()
    {
        using var dir = new TempDir("convention");
        TinyPatchDataset.Write(dir.File("data"), classes: 3, train: 4, val: 2);
        var ds = PatchDataset.Load(dir.File("data"), 3, DatasetImageReader.Png, skipBad: false);
        var own = InputConvention.FromStatistics(ds.Mean, ds.Std);

        // An "imported" 20-class ESPNet with the authors' Cityscapes convention, and the same weights without a card.
        manual_seed(2);
        using (var authors = NetworkFactory.Create(ModelArchitecture.EspNet, 20, 1, 1))
        {
            Checkpoint.Save(dir.File("authors.safetensors"), authors,
                ModelCard.Default(ModelArchitecture.EspNet, 20, 1, 1) with { Normalisation = InputNormalisation.AuthorsCityscapes });
            SafetensorsFile.Write(dir.File("plain.safetensors"), WeightLoader.Export(authors));
        }

        Train(Options(dir.File("data"), dir.File("tuned"), TrainingStage.Full) with { InitCheckpoint = dir.File("authors.safetensors") });
        AssertSame(InputNormalisation.AuthorsCityscapes, CardNormalisation(dir.File("tuned/best.safetensors")));

        // Both stages from --init: the encoder stage and the full stage on top of it keep the convention.
        Train(Options(dir.File("data"), dir.File("both"), TrainingStage.Both) with { InitCheckpoint = dir.File("authors.safetensors") });
        AssertSame(InputNormalisation.AuthorsCityscapes, CardNormalisation(dir.File("both/encoder/best.safetensors")));
        AssertSame(InputNormalisation.AuthorsCityscapes, CardNormalisation(dir.File("both/best.safetensors")));

        // A resumed run keeps what its checkpoint was trained with.
        Train(Options(dir.File("data"), dir.File("tuned"), TrainingStage.Full) with { Epochs = 2, Resume = true });
        AssertSame(InputNormalisation.AuthorsCityscapes, CardNormalisation(dir.File("tuned/last.safetensors")));

        // From scratch, or from plain weights whose convention nobody recorded: the training images' RGB statistics.
        Train(Options(dir.File("data"), dir.File("scratch"), TrainingStage.Both));
        AssertSame(own, CardNormalisation(dir.File("scratch/best.safetensors")));
        Assert.Equal(ChannelOrder.RGB, own.ChannelOrder);
        Train(Options(dir.File("data"), dir.File("plain"), TrainingStage.Full) with { InitCheckpoint = dir.File("plain.safetensors") });
        AssertSame(own, CardNormalisation(dir.File("plain/best.safetensors")));

        // --init and --encoder that disagree cannot both be kept.
        var e = Assert.Throws<ModelCardException>(() => Train(Options(dir.File("data"), dir.File("clash"), TrainingStage.Full) with
        {
            InitCheckpoint = dir.File("authors.safetensors"), EncoderCheckpoint = dir.File("scratch/encoder/best.safetensors"),
        }));
        Assert.Contains("input convention", e.Message);
    }

    private static void WriteIndex(string root, params (string Slide, string Mpp)[] rows)
    {
        TinyPatchDataset.Write(root, classes: 3, train: rows.Length - 1, val: 1);
        var lines = File.ReadAllLines(Path.Combine(root, PatchIndex.IndexFileName)).ToList();
        lines[0] += ",mpp";
        for (int i = 0; i < rows.Length; i++)
        {
            var f = lines[i + 1].Split(',');
            f[1] = rows[i].Slide;
            lines[i + 1] = string.Join(',', f) + "," + rows[i].Mpp;
        }
        File.WriteAllLines(Path.Combine(root, PatchIndex.IndexFileName), lines);
    }

    [Fact]
    public void Every_rows_mpp_must_agree_and_a_mixed_dataset_names_two_sources()
    {
        using var dir = new TempDir("mpp");
        WriteIndex(dir.File("same"), ("a", "0.5"), ("a", "0.5"), ("b", "0.500000"), ("c", ""));
        Assert.Equal(0.5, PatchIndex.Load(dir.File("same")).Mpp);

        WriteIndex(dir.File("mixed"), ("pancreas", "0.5"), ("pancreas", "0.5"), ("thyroid", "0.25"), ("colon", "0.5"));
        var e = Assert.Throws<DatasetFormatException>(() => PatchIndex.Load(dir.File("mixed")));
        Assert.Contains("pancreas at 0.5 µm/px", e.Message);
        Assert.Contains("thyroid at 0.25 µm/px", e.Message);
        Assert.EndsWith(PatchIndex.IndexFileName, e.FilePath);

        // Through the CLI: one line naming both, no training.
        var r = Tool.WsiSegment("train", "--patches", dir.File("mixed"), "-o", dir.File("out"), "--classes", "3", "--epochs", "1", "--device", "cpu");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("thyroid at 0.25", r.Stderr);
        Assert.False(File.Exists(dir.File("out/last.safetensors")));
    }
}
