using Microsoft.Extensions.Logging.Abstractions;
using WsiSegment.Model.Metrics;
using WsiSegment.Model.Network;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Training;
using WsiSegment.Processor.Training;
using WsiSegment.Tests.Support;
using WsiSegment.Tiling.Training;
using static TorchSharp.torch;

namespace WsiSegment.Tests.Model.Training;

/// <summary>Unlabelled pixels (255) never reach the loss, its gradient, the class weights or the metrics.</summary>
public class IgnoreLabelTests
{
    public IgnoreLabelTests() => TorchRuntime.Initialise();

    [Fact]
    public void The_loss_and_its_gradient_see_only_labelled_pixels()
    {
        manual_seed(5);
        using var scope = NewDisposeScope();
        var logits = randn(2, 3, 8, 8).requires_grad_(true);
        var random = new Random(2);
        var labels = new byte[2 * 8 * 8];
        for (int i = 0; i < labels.Length; i++) labels[i] = random.Next(3) == 0 ? PatchAugmenter.IgnoreLabel : (byte)random.Next(3);
        var target = tensor(labels, [2, 8, 8]).to(ScalarType.Int64);
        var weights = tensor(new float[] { 1f, 2f, 0.5f });

        var loss = SegmentationLoss.Compute(logits, target, weights, SegmentationLoss.LabelledPixels(labels))!;
        loss.backward();

        // By hand over labelled pixels: Σ w_t·(−log softmax_t) / Σ w_t.
        var logp = logits.detach().log_softmax(1);
        double num = 0, den = 0;
        var lp = logp.data<float>().ToArray();
        float[] w = [1f, 2f, 0.5f];
        for (int n = 0; n < 2; n++)
            for (int p = 0; p < 64; p++)
            {
                int t = labels[n * 64 + p];
                if (t == PatchAugmenter.IgnoreLabel) continue;
                num += -w[t] * lp[n * 3 * 64 + t * 64 + p];
                den += w[t];
            }
        Assert.Equal(num / den, loss.item<float>(), 4);

        // Not one unlabelled pixel has a gradient: changing its scores could not change the loss.
        var grad = logits.grad!.abs().sum(1).data<float>().ToArray();
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] == PatchAugmenter.IgnoreLabel) Assert.Equal(0f, grad[i]);
            else Assert.True(grad[i] > 0f);
        }
    }

    [Fact]
    public void A_batch_without_a_labelled_pixel_has_no_loss_rather_than_nan()
    {
        using var scope = NewDisposeScope();
        var labels = Enumerable.Repeat(PatchAugmenter.IgnoreLabel, 64).ToArray();
        Assert.Equal(0, SegmentationLoss.LabelledPixels(labels));
        Assert.Null(SegmentationLoss.Compute(randn(1, 2, 8, 8), tensor(labels, [1, 8, 8]).to(ScalarType.Int64), ones(2), 0));
    }

    [Fact]
    public void Predictions_on_unlabelled_pixels_do_not_change_the_scores()
    {
        var truth = new byte[] { 0, 1, 1, 255, 255, 0, 1, 255 };
        var a = new byte[] { 0, 1, 0, 0, 0, 0, 1, 0 };
        var b = new byte[] { 0, 1, 0, 1, 1, 0, 1, 1 };
        var ma = new ConfusionMatrix(2, 255);
        ma.Add(a, truth);
        var mb = new ConfusionMatrix(2, 255);
        mb.Add(b, truth);
        Assert.Equal(5, ma.Total);
        Assert.Equal(ma.Score().MeanIoU, mb.Score().MeanIoU);
        Assert.Equal(ma.Score().Classes[1].PredictedPixels, mb.Score().Classes[1].PredictedPixels);
        Assert.Equal(2.0 / 3, ma.Score().Classes[1].IoU!.Value, 6);
    }

    [Fact]
    public void Unlabelled_pixels_are_accepted_in_a_dataset_and_left_out_of_the_class_histogram()
    {
        using var dir = new TempDir("ds-ignore");
        TinyPatchDataset.Write(dir.Path, classes: 3, train: 2, val: 1);
        // Blank out the left half of every label map.
        foreach (var file in Directory.GetFiles(Path.Combine(dir.Path, "labels")))
        {
            var labels = LabelFiles.Read(file);
            for (int i = 0; i < labels.Length; i++) if (i % 64 < 32) labels[i] = 255;
            LabelFiles.WritePng(file, labels, 64, 64);
        }
        var ds = PatchDataset.Load(dir.Path, 3, DatasetImageReader.Png, skipBad: false);
        Assert.Equal(2L * 64 * 32, ds.TrainHistogram.Sum());
    }

    [SharedFact]
    public void Training_steps_on_real_sparse_patches_lower_the_loss()
    {
        using var dir = new TempDir("real-step");
        // Both real images at 0.5 µm/px with their GeoJSON outlines; unannotated pixels unlabelled.
        var options = new ExtractOptions
        {
            PatchSize = 128, Overlap = 0, TargetMpp = 0.5, KeepBackground = 1, ClassNames = CryoNuSeg.ClassNames,
            Unannotated = UnannotatedPixels.Background,
        };
        new PatchExtractor(options, NullLogger.Instance).Run(
            [new AnnotatedSlide(CryoNuSeg.Image(CryoNuSeg.Pancreas), CryoNuSeg.GeoJson(CryoNuSeg.Pancreas))], dir.File("ds"));
        var index = PatchIndex.Load(dir.File("ds"));
        var augmenter = new PatchAugmenter(AugmentationOptions.None, InputConvention.FromStatistics([0.7f, 0.5f, 0.7f], [0.2f, 0.2f, 0.2f]));
        int n = Math.Min(4, index.Samples.Count), crop = 128;
        var inputs = new float[n * 3 * crop * crop];
        var labels = new byte[n * crop * crop];
        for (int i = 0; i < n; i++)
        {
            var (image, label) = PatchDataset.Read(index.Samples[i], 2, DatasetImageReader.Png);
            augmenter.Apply(image, label, crop, null, inputs.AsSpan(i * 3 * crop * crop, 3 * crop * crop), labels.AsSpan(i * crop * crop, crop * crop));
        }
        manual_seed(3);
        using var net = new EspNet(2, p: 1, q: 1);
        net.train();
        using var adam = AdamOptimizer.For(net, new AdamOptions { LearningRate = 1e-2 });
        using var x = tensor(inputs, [n, 3, crop, crop]);
        using var t = tensor(labels, [n, crop, crop]).to(ScalarType.Int64);
        using var w = tensor(new float[] { 1f, 3f });
        var losses = new List<double>();
        for (int step = 0; step < 5; step++)
        {
            using var scope = NewDisposeScope();
            adam.ZeroGrad();
            var loss = SegmentationLoss.Compute(net.call(x), t, w, SegmentationLoss.LabelledPixels(labels))!;
            losses.Add(loss.item<float>());
            loss.backward();
            adam.Step();
        }
        // Every step lowers the loss on the same batch, and markedly by the end.
        string trace = string.Join(" ", losses.Select(l => l.ToString("0.000")));
        for (int i = 1; i < losses.Count; i++) Assert.True(losses[i] < losses[i - 1], trace);
        Assert.True(losses[^1] < losses[0] - 0.02, trace);
    }
}
