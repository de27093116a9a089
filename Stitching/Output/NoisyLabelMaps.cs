namespace WsiSegment.Stitching.Output;

/// <summary>
/// Deterministic worst-case label maps for polygonising: the shapes an imperfect model produces on real tissue, and
/// the pathological extremes (every pixel its own region). Shared by the GeoJSON benchmark and its tests.
/// </summary>
public static class NoisyLabelMaps
{
    /// <summary>Names the generator understands: salt-and-pepper at a density, checkerboards, speckle.</summary>
    public static readonly IReadOnlyList<string> Names =
        ["salt-0.01", "salt-0.1", "salt-0.3", "salt-0.5", "salt-0.7", "salt-multi", "checker-1", "checker-2", "speckle", "blobs", "noisy-tissue"];

    /// <summary>A <paramref name="width"/>×<paramref name="height"/> map of the named kind (same seed, same map).</summary>
    public static ReducedLabels Create(string name, int width, int height, int seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        var rng = new Random(seed);
        var labels = new byte[width * height];
        switch (name)
        {
            case var s when s.StartsWith("salt-", StringComparison.Ordinal) && double.TryParse(s[5..], System.Globalization.CultureInfo.InvariantCulture, out double density):
                // Class 1 at the given density on background: near 0.59 (site percolation) the clusters are fractal.
                for (int i = 0; i < labels.Length; i++) labels[i] = rng.NextDouble() < density ? (byte)1 : (byte)0;
                break;
            case "salt-multi": // every pixel a random class 0–7
                for (int i = 0; i < labels.Length; i++) labels[i] = (byte)rng.Next(0, 8);
                break;
            case var c when c.StartsWith("checker-", StringComparison.Ordinal) && int.TryParse(c[8..], out int cell) && cell > 0:
                for (int y = 0; y < height; y++)
                    for (int x = 0; x < width; x++) labels[y * width + x] = (byte)(((x / cell) + (y / cell)) % 2 == 0 ? 1 : 2);
                break;
            case "speckle": // random classes per 2–6 px block plus 10 % per-pixel noise, like a randomly initialised model
                for (int by = 0; by < height;)
                {
                    int bh = rng.Next(2, 7);
                    for (int bx = 0; bx < width;)
                    {
                        int bw = rng.Next(2, 7);
                        byte v = (byte)rng.Next(0, 8);
                        for (int y = by; y < Math.Min(height, by + bh); y++)
                            for (int x = bx; x < Math.Min(width, bx + bw); x++)
                                labels[y * width + x] = rng.NextDouble() < 0.1 ? (byte)rng.Next(0, 8) : v;
                        bx += bw;
                    }
                    by += bh;
                }
                break;
            case "blobs": // smooth regions from a few random discs, plus 2 % speckle: a decent model's output
                {
                    int discs = Math.Max(4, width * height / 40_000);
                    for (int d = 0; d < discs; d++)
                    {
                        int cx = rng.Next(width), cy = rng.Next(height), r = rng.Next(8, Math.Max(9, Math.Min(width, height) / 6));
                        byte v = (byte)rng.Next(1, 8);
                        for (int y = Math.Max(0, cy - r); y < Math.Min(height, cy + r); y++)
                            for (int x = Math.Max(0, cx - r); x < Math.Min(width, cx + r); x++)
                                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r) labels[y * width + x] = v;
                    }
                    for (int i = 0; i < labels.Length; i++) if (rng.NextDouble() < 0.02) labels[i] = (byte)rng.Next(0, 8);
                    break;
                }
            case "noisy-tissue": // one tissue class over most of the map, 25 % of its pixels another class: one polygon with
                                 // tens of thousands of holes and islands of its own class inside them (an unsure model)
                for (int y = 0; y < height; y++)
                    for (int x = 0; x < width; x++)
                    {
                        bool tissue = x > width / 16 && x < width - width / 16 && y > height / 16 && y < height - height / 16;
                        labels[y * width + x] = !tissue ? (byte)0 : rng.NextDouble() < 0.25 ? (byte)rng.Next(2, 8) : (byte)1;
                    }
                break;
            default:
                throw new ArgumentException($"unknown noisy map '{name}' (known: {string.Join(", ", Names)})", nameof(name));
        }
        return ReducedLabels.Full(width, height, labels);
    }
}
