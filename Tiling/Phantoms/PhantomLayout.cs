using NetVips;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Tiling.Phantoms;

/// <summary>
/// Where tissue and each class go. The fields are Perlin noise, whose value at pixel (x, y) with cell size C equals
/// the value at (x/k, y/k) with cell size C/k when k divides C and x, y: so thresholds and class biases are tuned
/// on an exact subsample (about 320 px a side) and hold for the full-size image.
/// </summary>
internal sealed class PhantomLayout
{
    private const int Classes = PhantomClasses.Count - 1;
    private readonly int _seed;
    private readonly int _tissueCell;
    private readonly int _classCell;
    private readonly double[] _bias = new double[Classes];

    private PhantomLayout(int seed, int tissueCell, int classCell)
    {
        _seed = seed;
        _tissueCell = tissueCell;
        _classCell = classCell;
    }

    public double TissueThreshold { get; private set; }

    /// <summary>Planned fraction of the slide per class id (0 = background).</summary>
    public IReadOnlyList<double> ClassFractions { get; private set; } = [];

    public static PhantomLayout Plan(PhantomOptions o)
    {
        int side = Math.Min(o.Width, o.Height);
        int k = Math.Max(1, side / 320);
        // Cell sizes are multiples of 4k (octaves use C/2 and C/4) so the subsample identity holds exactly.
        int Cell(double microns, double maxFractionOfSide)
        {
            double px = Math.Min(microns / o.Mpp, side * maxFractionOfSide);
            return Math.Max(1, (int)Math.Round(px / (4 * k))) * 4 * k;
        }
        var layout = new PhantomLayout(o.Seed, Cell(2500, 0.6), Cell(700, 0.3));
        layout.Tune(o, k);
        return layout;
    }

    /// <summary>Tissue field at 1/k of full size (k = 1: the real thing). Large = tissue.</summary>
    public Image TissueField(int width, int height, int k, VipsChain chain) =>
        Octaves(width, height, k, _tissueCell, [(1.0, 1), (0.5, 2), (0.25, 4)], 10, chain, 0);

    /// <summary>Class c's field (0-based among the tissue classes) with its tuned bias; the arg-max wins.</summary>
    public Image ClassField(int c, int width, int height, int k, VipsChain chain) =>
        Octaves(width, height, k, _classCell, [(1.0, 1), (0.45, 4)], 20 + 2 * c, chain, _bias[c]);

    private Image Octaves(int width, int height, int k, int cell, (double Amp, int Div)[] octaves, int salt, VipsChain chain, double bias)
    {
        Image? acc = null;
        int w = (width + k - 1) / k, h = (height + k - 1) / k;
        for (int i = 0; i < octaves.Length; i++)
        {
            var (amp, div) = octaves[i];
            var p = chain.Add(Image.Perlin(w, h, cellSize: Math.Max(1, cell / div / k), seed: Seeds.Of(_seed, salt + 97 * i)));
            var scaled = chain.Add(p.Linear([amp], [i == 0 ? bias : 0.0]));
            acc = acc is null ? scaled : chain.Add(acc + scaled);
        }
        return acc!;
    }

    private void Tune(PhantomOptions o, int k)
    {
        using var chain = new VipsChain();
        float[] tissue = Read(TissueField(o.Width, o.Height, k, chain));
        var fields = new float[Classes][];
        for (int c = 0; c < Classes; c++) fields[c] = Read(ClassField(c, o.Width, o.Height, k, chain));
        int n = tissue.Length;

        var sorted = (float[])tissue.Clone();
        Array.Sort(sorted);
        TissueThreshold = o.TissueFraction >= 1.0
            ? -1e30
            : sorted[Math.Clamp((int)Math.Round((1 - o.TissueFraction) * n), 0, n - 1)];
        var inTissue = new List<int>(n);
        for (int i = 0; i < n; i++)
            if (tissue[i] > TissueThreshold) inTissue.Add(i);

        // Nudge each class's bias toward an equal share of the tissue (a few dozen cheap passes).
        var counts = new int[Classes];
        for (int iter = 0; iter < 60; iter++)
        {
            Count(fields, inTissue, counts);
            if (iter == 59) break;
            for (int c = 0; c < Classes; c++)
                _bias[c] += 0.25 * (1.0 / Classes - counts[c] / (double)Math.Max(1, inTissue.Count));
        }
        var fractions = new double[PhantomClasses.Count];
        fractions[0] = 1 - inTissue.Count / (double)n;
        for (int c = 0; c < Classes; c++) fractions[c + 1] = counts[c] / (double)n;
        ClassFractions = fractions;
    }

    private void Count(float[][] fields, List<int> pixels, int[] counts)
    {
        Array.Clear(counts);
        foreach (int i in pixels)
        {
            int best = 0;
            double bv = fields[0][i] + _bias[0];
            for (int c = 1; c < Classes; c++)
            {
                double v = fields[c][i] + _bias[c];
                if (v > bv) { bv = v; best = c; }
            }
            counts[best]++;
        }
    }

    private static float[] Read(Image image)
    {
        using var f = image.Cast(Enums.BandFormat.Float);
        return f.WriteToMemory<float>();
    }
}
