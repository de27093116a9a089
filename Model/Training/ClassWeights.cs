namespace WsiSegment.Model.Training;

/// <summary>
/// ESPNet's (and ENet's) class weighting for cross-entropy: w_c = 1 / ln(1.10 + p_c), where p_c is class c's
/// share of the labelled training pixels. Rare classes get up to ~10.5, a class covering everything ~1.35.
/// </summary>
public static class ClassWeights
{
    /// <summary>The constant the paper adds inside the logarithm; it bounds the weight of an absent class.</summary>
    public const double Offset = 1.10;

    /// <summary>Weights from a pixel histogram (one count per class). An empty histogram is an error.</summary>
    public static float[] FromHistogram(IReadOnlyList<long> histogram)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        if (histogram.Count == 0) throw new ArgumentException("histogram has no classes", nameof(histogram));
        double total = 0;
        foreach (var c in histogram)
        {
            if (c < 0) throw new ArgumentException("histogram counts must be non-negative", nameof(histogram));
            total += c;
        }
        if (total <= 0) throw new ArgumentException("histogram counts no labelled pixel", nameof(histogram));
        var weights = new float[histogram.Count];
        for (int i = 0; i < weights.Length; i++)
            weights[i] = (float)(1.0 / Math.Log(Offset + histogram[i] / total));
        return weights;
    }
}
