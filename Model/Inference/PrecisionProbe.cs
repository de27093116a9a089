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
    /// The engines in blocks of their own, in the order fp32, bf16, bf16, fp32: each first block starts with an untimed
    /// call (it warms the engine and gives the labels), then every block times <paramref name="timedRunsPerBlock"/>
    /// calls, and the fastest of an engine's calls counts (the least disturbed by other work). Blocks, not single calls
    /// interleaved, so that each engine is timed as a run of one precision sees it; the mirrored order, so that load
    /// that rises or falls during the probe (a reader filling its queue at the start of a slide) favours neither.
    /// </summary>
    public static PrecisionComparison Compare(InferenceEngine fp32, InferenceEngine bf16, ReadOnlySpan<byte> rgb, int n, int h, int w, int timedRunsPerBlock = 1)
    {
        ArgumentNullException.ThrowIfNull(fp32);
        ArgumentNullException.ThrowIfNull(bf16);
        var input = rgb.ToArray();
        var c = Compare(labels => fp32.PredictLabels(input, n, h, w, labels), labels => bf16.PredictLabels(input, n, h, w, labels),
            (long)n * h * w, timedRunsPerBlock);
        return c with { Images = n, Height = h, Width = w };
    }

    /// <summary>The probe's order and timing over any two label producers of <paramref name="pixels"/> labels each.</summary>
    internal static PrecisionComparison Compare(Action<byte[]> fp32, Action<byte[]> bf16, long pixels, int timedRunsPerBlock = 1)
    {
        var a = new byte[pixels];
        var b = new byte[pixels];
        var scratch = new byte[pixels];
        int runs = Math.Max(1, timedRunsPerBlock);
        fp32(a);
        double best32 = Block(fp32, scratch, runs);
        bf16(b);
        double best16 = Block(bf16, scratch, runs);
        best16 = Math.Min(best16, Block(bf16, scratch, runs));
        best32 = Math.Min(best32, Block(fp32, scratch, runs));
        long same = 0;
        for (long i = 0; i < a.LongLength; i++)
            if (a[i] == b[i]) same++;
        return new PrecisionComparison(Math.Round(best32, 2), Math.Round(best16, 2), (double)same / pixels, 1, 1, (int)Math.Min(pixels, int.MaxValue));
    }

    public static PrecisionDecision Decide(PrecisionComparison c)
    {
        if (c.LabelAgreement < MinLabelAgreement)
            return new(InferencePrecision.Fp32, c, $"bf16 labels agree with fp32 on {c.LabelAgreement:P2} of pixels (< {MinLabelAgreement:P1})");
        if (c.Bf16OverFp32 > MaxBf16TimeRatio)
            return new(InferencePrecision.Fp32, c, $"bf16 takes {c.Bf16OverFp32:0.00}× fp32's time (needs ≤ {MaxBf16TimeRatio:0.00}×)");
        return new(InferencePrecision.Bf16, c, $"bf16 takes {c.Bf16OverFp32:0.00}× fp32's time and agrees on {c.LabelAgreement:P2} of pixels");
    }

    private static double Block(Action<byte[]> predict, byte[] scratch, int runs)
    {
        double best = double.MaxValue;
        for (int run = 0; run < runs; run++)
        {
            long t0 = Stopwatch.GetTimestamp();
            predict(scratch);
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        return best;
    }
}
