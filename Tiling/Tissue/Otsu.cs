namespace WsiSegment.Tiling.Tissue;

/// <summary>Otsu's threshold on a 256-bin histogram: the level t maximising between-class variance of [0, t] vs (t, 255].</summary>
public static class Otsu
{
    /// <summary>Returns t such that values &gt; t form the upper class. A constant histogram gives its value.</summary>
    public static int Threshold(ReadOnlySpan<long> histogram)
    {
        if (histogram.Length != 256) throw new ArgumentException("histogram must have 256 bins", nameof(histogram));
        long total = 0;
        double sumAll = 0;
        for (int i = 0; i < 256; i++) { total += histogram[i]; sumAll += (double)i * histogram[i]; }
        if (total == 0) return 0;
        long wB = 0;
        double sumB = 0, best = -1;
        int threshold = 0;
        for (int t = 0; t < 256; t++)
        {
            wB += histogram[t];
            if (wB == 0) continue;
            long wF = total - wB;
            if (wF == 0)
            {
                if (best < 0) threshold = t; // Constant image: everything is one class.
                break;
            }
            sumB += (double)t * histogram[t];
            double mB = sumB / wB, mF = (sumAll - sumB) / wF;
            double between = (double)wB * wF * (mB - mF) * (mB - mF);
            if (between > best) { best = between; threshold = t; }
        }
        return threshold;
    }
}
