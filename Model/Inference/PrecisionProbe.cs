namespace WsiSegment.Model.Inference;

/// <summary>fp32 against bf16 of the same network: time of each per batch (of <see cref="Images"/>×<see cref="Height"/>×<see cref="Width"/>)
/// and how many arg-max labels agree. Times are null where they were not measured.</summary>
public sealed record PrecisionComparison(double? Fp32Ms, double? Bf16Ms, double LabelAgreement, int Images, int Height, int Width)
{
    /// <summary>bf16 time over fp32 time (below 1: bf16 is faster); NaN where either was not measured.</summary>
    public double Bf16OverFp32 => Fp32Ms is > 0 && Bf16Ms is { } b ? b / Fp32Ms.Value : double.NaN;
}

/// <summary>What `--precision auto` chose, and the comparison it chose on.</summary>
public sealed record PrecisionDecision(InferencePrecision Chosen, PrecisionComparison? Comparison, string Reason);

/// <summary>
/// The rule of `--precision auto`: bf16 only where it is clearly faster on this machine and gives (nearly) the labels
/// fp32 gives; and the label half of the check (the timing half is <see cref="PrecisionTrial"/>).
/// </summary>
public static class PrecisionProbe
{
    /// <summary>bf16 must agree with fp32 on at least this fraction of pixels…</summary>
    public const double MinLabelAgreement = 0.995;

    /// <summary>…and take at most this fraction of fp32's time (a margin over timing noise, so the choice does not flip run to run).</summary>
    public const double MaxBf16TimeRatio = 0.95;

    /// <summary>Fraction of pixels where the two engines' arg-max labels agree on one input (one untimed call of each).</summary>
    public static double Agreement(InferenceEngine fp32, InferenceEngine bf16, ReadOnlySpan<byte> rgb, int n, int h, int w)
    {
        ArgumentNullException.ThrowIfNull(fp32);
        ArgumentNullException.ThrowIfNull(bf16);
        var a = new byte[(long)n * h * w];
        var b = new byte[a.Length];
        fp32.PredictLabelsHere(rgb, n, h, w, a);
        bf16.PredictLabelsHere(rgb, n, h, w, b);
        long same = 0;
        for (long i = 0; i < a.LongLength; i++)
            if (a[i] == b[i]) same++;
        return (double)same / a.LongLength;
    }

    public static PrecisionDecision Decide(PrecisionComparison c)
    {
        ArgumentNullException.ThrowIfNull(c);
        if (c.LabelAgreement < MinLabelAgreement)
            return new(InferencePrecision.Fp32, c, $"bf16 labels agree with fp32 on {c.LabelAgreement:P2} of pixels (< {MinLabelAgreement:P1})");
        if (double.IsNaN(c.Bf16OverFp32))
            return new(InferencePrecision.Fp32, c, "bf16 and fp32 were not both timed");
        if (c.Bf16OverFp32 > MaxBf16TimeRatio)
            return new(InferencePrecision.Fp32, c, $"bf16 takes {c.Bf16OverFp32:0.00}× fp32's time (needs ≤ {MaxBf16TimeRatio:0.00}×)");
        return new(InferencePrecision.Bf16, c, $"bf16 takes {c.Bf16OverFp32:0.00}× fp32's time and agrees on {c.LabelAgreement:P2} of pixels");
    }
}
