using WsiSegment.Model.Inference;
using WsiSegment.Model.Runtime;

namespace WsiSegment.Tests.Model.Inference;

public class PrecisionAutoTests
{
    public PrecisionAutoTests() => TorchRuntime.Initialise();

    [Fact]
    public void Decide_keeps_fp32_when_bf16_labels_disagree_even_if_bf16_is_faster()
    {
        var d = PrecisionProbe.Decide(new PrecisionComparison(100, 50, 0.99, 1, 64, 64));
        Assert.Equal(InferencePrecision.Fp32, d.Chosen);
        Assert.Contains("agree", d.Reason);
    }

    [Fact]
    public void Decide_keeps_fp32_when_bf16_is_not_clearly_faster()
    {
        Assert.Equal(InferencePrecision.Fp32, PrecisionProbe.Decide(new PrecisionComparison(100, 96, 1.0, 1, 64, 64)).Chosen);
        Assert.Equal(InferencePrecision.Fp32, PrecisionProbe.Decide(new PrecisionComparison(100, 130, 1.0, 1, 64, 64)).Chosen);
    }

    [Fact]
    public void Decide_takes_bf16_when_it_is_faster_and_agrees()
    {
        var d = PrecisionProbe.Decide(new PrecisionComparison(100, 80, 0.999, 1, 64, 64));
        Assert.Equal(InferencePrecision.Bf16, d.Chosen);
        Assert.Equal(0.8, d.Comparison!.Bf16OverFp32, 6);
    }

    [Fact]
    public void Auto_engine_times_its_first_batches_in_both_precisions_then_computes_with_what_it_chose()
    {
        using var model = InferenceEngineTests.RandomModel();
        using var auto = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu", Precision = InferencePrecision.Auto });
        using var fp32 = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu", Precision = InferencePrecision.Fp32 });
        using var bf16 = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu", Precision = InferencePrecision.Bf16 });
        Assert.Equal(InferencePrecision.Fp32, auto.Precision);
        Assert.Null(auto.PrecisionDecision);

        const int n = 1, h = 64, w = 96;
        var labels = new byte[n * h * w];
        var expected = new byte[labels.Length];
        // The trial's batches: fp32, fp32, bf16 ×4, fp32, fp32, each computed by the precision its block names.
        var order = new[] { 0, 0, 1, 1, 1, 1, 0, 0 };
        Assert.Equal(PrecisionTrial.Batches, order.Length);
        for (int i = 0; i < order.Length; i++)
        {
            var rgb = InferenceEngineTests.RandomRgb(n, h, w, seed: 20 + i);
            auto.PredictLabels(rgb, n, h, w, labels);
            (order[i] == 0 ? fp32 : bf16).PredictLabels(rgb, n, h, w, expected);
            Assert.True(expected.AsSpan().SequenceEqual(labels), $"batch {i} was not computed in {(order[i] == 0 ? "fp32" : "bf16")}");
            if (i < order.Length - 1)
            {
                Assert.Contains($"after {i + 1} of the trial's {PrecisionTrial.Batches} batches", auto.PrecisionDecision!.Reason);
                Assert.Equal(InferencePrecision.Fp32, auto.Precision);
            }
        }

        var decision = Assert.IsType<PrecisionDecision>(auto.PrecisionDecision);
        var c = decision.Comparison!;
        Assert.Equal((n, h, w), (c.Images, c.Height, c.Width));
        Assert.InRange(c.LabelAgreement, 0, 1);
        Assert.True(c.Fp32Ms > 0 && c.Bf16Ms > 0);
        Assert.Equal(PrecisionProbe.Decide(c).Chosen, decision.Chosen);
        Assert.Equal(decision.Chosen, auto.Precision);

        // Later calls are those of a fixed-precision engine of the precision it chose.
        var again = InferenceEngineTests.RandomRgb(n, h, w, seed: 9);
        (decision.Chosen == InferencePrecision.Bf16 ? bf16 : fp32).PredictLabels(again, n, h, w, expected);
        auto.PredictLabels(again, n, h, w, labels);
        Assert.Equal(expected, labels);
        Assert.Same(decision, auto.PrecisionDecision); // decided once
    }

    [Fact]
    public void Agreement_counts_the_pixels_where_the_two_engines_labels_match()
    {
        using var model = InferenceEngineTests.RandomModel();
        using var a = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu" });
        using var b = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu" });
        var rgb = InferenceEngineTests.RandomRgb(2, 32, 40);
        Assert.Equal(1.0, PrecisionProbe.Agreement(a, b, rgb, 2, 32, 40)); // two fp32 engines of one model agree everywhere

        using var other = InferenceEngineTests.RandomModel(seed: 11);
        using var c = InferenceEngine.Create(other, new InferenceOptions { Device = "cpu" });
        Assert.True(PrecisionProbe.Agreement(a, c, rgb, 2, 32, 40) < 0.9);
    }

    [Fact]
    public void Load_that_falls_during_the_trial_favours_neither_precision()
    {
        // Two equally fast precisions on a machine whose load falls over the trial (each batch quicker than the one
        // before, down to a floor): timed in one block each, the second would look 3× faster; mirrored, neither does.
        var trial = new PrecisionTrial(1.0, 1, 64, 64);
        var ran = new List<InferencePrecision>();
        for (int i = 0; !trial.Complete; i++)
        {
            ran.Add(trial.Next);
            trial.Record(trial.Next, Math.Max(30, 150 - 30 * i), 64 * 64);
        }
        Assert.Equal(PrecisionTrial.Batches, ran.Count);
        Assert.Equal(ran.Count / 2, ran.Count(p => p == InferencePrecision.Bf16));
        Assert.Equal(1.0, trial.Comparison.Bf16OverFp32, 6);
        Assert.Equal(InferencePrecision.Fp32, trial.Decide().Chosen);
    }

    [Fact]
    public void A_short_batch_counts_by_its_pixels_and_an_unfinished_trial_keeps_fp32()
    {
        var trial = new PrecisionTrial(0.999, 2, 100, 100);
        trial.Record(InferencePrecision.Fp32, 100, 2 * 100 * 100);
        trial.Record(InferencePrecision.Bf16, 40, 100 * 100); // half the pixels in 40 ms: 80 ms per full batch
        Assert.Equal((100.0, 80.0), (trial.Comparison.Fp32Ms!.Value, trial.Comparison.Bf16Ms!.Value));
        var unfinished = trial.Unfinished();
        Assert.Equal(InferencePrecision.Fp32, unfinished.Chosen);
        Assert.Contains("after 2 of the trial's 8 batches (1 in fp32, 1 in bf16)", unfinished.Reason);
        Assert.Equal(InferencePrecision.Fp32, PrecisionProbe.Decide(new PrecisionComparison(null, 80, 1.0, 1, 8, 8)).Chosen);
    }
}
