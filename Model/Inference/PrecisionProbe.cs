using System.Diagnostics;

namespace WsiSegment.Model.Inference;

/// <summary>fp32 against bf16 of the same network on the same input: forward time of each and how many labels agree.</summary>
public sealed record PrecisionComparison(double Fp32Ms, double Bf16Ms, double LabelAgreement, int Images, int Height, int Width)
{
    /// <summary>bf16 time over fp32 time (below 1: bf16 is faster).</summary>
    public double Bf16OverFp32 => Fp32Ms > 0 ? Bf16Ms / Fp32Ms : double.NaN;
}

/// <summary>What `--precision auto` chose, and the comparison it chose on.</summary>
public sealed record PrecisionDecision(InferencePrecision Chosen, PrecisionComparison? Comparison, string Reason);

/// <summary>
/// Times fp32 and bf16 engines on one input and compares their arg-max labels, and decides between them:
/// bf16 only where it is clearly faster on this machine and gives (nearly) the labels fp32 gives.
/// </summary>
public static class PrecisionProbe
{
    /// <summary>bf16 must agree with fp32 on at least this fraction of pixels…</summary>
    public const double MinLabelAgreement = 0.995;

    /// <summary>…and take at most this fraction of fp32's time (a margin over timing noise, so the choice does not flip run to run).</summary>
    public const double MaxBf16TimeRatio = 0.95;

    /// <summary>
    /// Each engine in a block of its own: one untimed call (it warms the engine and gives the labels), then
    /// <paramref name="timedRuns"/> timed calls, of which the fastest counts (the least disturbed by other work).
    /// Not interleaved, so that each is timed as a run of one precision would see it.
    /// </summary>
    public static PrecisionComparison Compare(InferenceEngine fp32, InferenceEngine bf16, ReadOnlySpan<byte> rgb, int n, int h, int w, int timedRuns = 2)
    {
        ArgumentNullException.ThrowIfNull(fp32);
        ArgumentNullException.ThrowIfNull(bf16);
        var a = new byte[(long)n * h * w];
        var b = new byte[a.Length];
        double best32 = Block(fp32, rgb, n, h, w, a, timedRuns);
        double best16 = Block(bf16, rgb, n, h, w, b, timedRuns);
        long same = 0;
        for (int i = 0; i < a.Length; i++)
            if (a[i] == b[i]) same++;
        return new PrecisionComparison(Math.Round(best32, 2), Math.Round(best16, 2), (double)same / a.Length, n, h, w);
    }

    public static PrecisionDecision Decide(PrecisionComparison c)
    {
        if (c.LabelAgreement < MinLabelAgreement)
            return new(InferencePrecision.Fp32, c, $"bf16 labels agree with fp32 on {c.LabelAgreement:P2} of pixels (< {MinLabelAgreement:P1})");
        if (c.Bf16OverFp32 > MaxBf16TimeRatio)
            return new(InferencePrecision.Fp32, c, $"bf16 takes {c.Bf16OverFp32:0.00}× fp32's time (needs ≤ {MaxBf16TimeRatio:0.00}×)");
        return new(InferencePrecision.Bf16, c, $"bf16 takes {c.Bf16OverFp32:0.00}× fp32's time and agrees on {c.LabelAgreement:P2} of pixels");
    }

    private static double Block(InferenceEngine engine, ReadOnlySpan<byte> rgb, int n, int h, int w, byte[] labels, int timedRuns)
    {
        engine.PredictLabels(rgb, n, h, w, labels);
        var scratch = new byte[labels.Length];
        double best = double.MaxValue;
        for (int run = 0; run < Math.Max(1, timedRuns); run++)
        {
            long t0 = Stopwatch.GetTimestamp();
            engine.PredictLabels(rgb, n, h, w, scratch);
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        return best;
    }
}
