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
    public void Auto_engine_runs_fp32_until_the_first_batch_then_computes_with_what_it_chose()
    {
        using var model = InferenceEngineTests.RandomModel();
        using var auto = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu", Precision = InferencePrecision.Auto });
        Assert.Equal(InferencePrecision.Fp32, auto.Precision);
        Assert.Null(auto.PrecisionDecision);

        const int n = 1, h = 64, w = 96;
        var rgb = InferenceEngineTests.RandomRgb(n, h, w);
        var labels = new byte[n * h * w];
        auto.PredictLabels(rgb, n, h, w, labels);

        var decision = Assert.IsType<PrecisionDecision>(auto.PrecisionDecision);
        var c = decision.Comparison!;
        Assert.Equal((n, h, w), (c.Images, c.Height, c.Width));
        Assert.InRange(c.LabelAgreement, 0, 1);
        Assert.True(c.Fp32Ms > 0 && c.Bf16Ms > 0);
        Assert.Equal(PrecisionProbe.Decide(c).Chosen, decision.Chosen);
        Assert.Equal(decision.Chosen, auto.Precision);

        // Its labels are those of a fixed-precision engine of the precision it chose, on this and later calls.
        using var fixedEngine = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu", Precision = decision.Chosen });
        var expected = new byte[labels.Length];
        fixedEngine.PredictLabels(rgb, n, h, w, expected);
        Assert.Equal(expected, labels);
        var again = InferenceEngineTests.RandomRgb(n, h, w, seed: 9);
        fixedEngine.PredictLabels(again, n, h, w, expected);
        auto.PredictLabels(again, n, h, w, labels);
        Assert.Equal(expected, labels);
        Assert.Same(decision, auto.PrecisionDecision); // decided once
    }

    [Fact]
    public void Compare_counts_label_agreement_of_the_two_engines()
    {
        using var model = InferenceEngineTests.RandomModel();
        using var a = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu" });
        using var b = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu" });
        var rgb = InferenceEngineTests.RandomRgb(2, 32, 40);
        var same = PrecisionProbe.Compare(a, b, rgb, 2, 32, 40, timedRunsPerBlock: 1);
        Assert.Equal(1.0, same.LabelAgreement); // two fp32 engines of one model agree everywhere

        using var other = InferenceEngineTests.RandomModel(seed: 11);
        using var c = InferenceEngine.Create(other, new InferenceOptions { Device = "cpu" });
        Assert.True(PrecisionProbe.Compare(a, c, rgb, 2, 32, 40, timedRunsPerBlock: 1).LabelAgreement < 0.9);
    }

    [Fact]
    public void Load_that_falls_during_the_probe_favours_neither_precision()
    {
        // Two equally fast producers on a machine whose load falls over the probe (each call quicker than the one
        // before, down to a floor): timed in one block each, the second would look 3× faster; mirrored, neither does.
        int call = 0;
        void Step(byte[] labels)
        {
            Thread.Sleep(Math.Max(30, 150 - 30 * call++));
            labels.AsSpan().Fill(1);
        }
        var c = PrecisionProbe.Compare(Step, Step, 16);
        Assert.Equal(6, call);
        Assert.Equal(1.0, c.LabelAgreement);
        Assert.InRange(c.Bf16OverFp32, 0.8, 1.25);
    }
}
