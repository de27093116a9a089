using NetTopologySuite.Geometries;
using NetTopologySuite.Simplify;

namespace WsiSegment.Stitching.Output;

/// <summary>
/// Douglas–Peucker simplification of traced polygons that keeps their MultiPolygon valid, in linear time.
/// <para>A simplified outline stays within <c>tolerance</c> of the exact one (Hausdorff), so two polygons of one label
/// whose exact outlines are more than 2·tolerance apart cannot come to touch. A polygon is simplified only when no
/// other kept region of its label lies within that distance (a window scan of its boundary pixels); a crowded one keeps
/// its exact pixel-edge outline, which never overlaps a neighbour's. This replaces pairwise overlap tests between
/// simplified polygons, which were quadratic where one big region's envelope held thousands of specks.</para>
/// </summary>
public static class ContourSimplifier
{
    public static Polygon[] Simplify(TracedLabel traced, ReducedLabels labels, LabelComponents components, byte label, double tolerance)
    {
        ArgumentNullException.ThrowIfNull(traced);
        var result = traced.Polygons.ToArray();
        if (tolerance <= 0 || result.Length == 0) return result;
        var crowded = Crowded(traced, labels, components, label, tolerance);
        for (int i = 0; i < result.Length; i++)
        {
            var exact = result[i];
            // A rectangle (most speckle) has nothing to simplify.
            if (exact.NumPoints <= 5 || crowded.Contains(traced.Regions[i])) continue;
            if (DouglasPeuckerSimplifier.Simplify(exact, tolerance) is Polygon p && !p.IsEmpty && p.NumPoints < exact.NumPoints
                && p.NumInteriorRings == exact.NumInteriorRings && p.IsValid)
                result[i] = p;
        }
        return result;
    }

    /// <summary>Regions of <paramref name="label"/> with another kept region of that label within 2·tolerance (plus a
    /// pixel) of their boundary, in Chebyshev pixel distance.</summary>
    private static HashSet<int> Crowded(TracedLabel traced, ReducedLabels labels, LabelComponents components, byte label, double tolerance)
    {
        var kept = traced.Regions.ToHashSet();
        var crowded = new HashSet<int>();
        int w = labels.Width, h = labels.Height;
        int r = (int)Math.Floor(2 * tolerance) + 1;
        var src = labels.Labels;
        var ids = components.Ids;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int i = y * w + x;
                if (src[i] != label) continue;
                int c = ids[i];
                if (!kept.Contains(c) || crowded.Contains(c)) continue;
                // Only boundary pixels can have another region nearer than the region's own edge.
                bool boundary = x == 0 || y == 0 || x == w - 1 || y == h - 1 || src[i - 1] != label || src[i + 1] != label || src[i - w] != label || src[i + w] != label;
                if (!boundary) continue;
                for (int yy = Math.Max(0, y - r); yy <= Math.Min(h - 1, y + r); yy++)
                {
                    int row = yy * w;
                    for (int xx = Math.Max(0, x - r); xx <= Math.Min(w - 1, x + r); xx++)
                    {
                        int j = row + xx;
                        if (src[j] == label && ids[j] != c && kept.Contains(ids[j]))
                        {
                            crowded.Add(c);
                            crowded.Add(ids[j]);
                            goto next;
                        }
                    }
                }
            next:;
            }
        return crowded;
    }
}
