namespace WsiSegment.Tiling.Training;

/// <summary>
/// Scan-line polygon fill into a label buffer: a pixel takes a polygon's class when its centre lies inside the
/// polygon by the even-odd rule over all its rings (so holes stay unfilled). Later polygons paint over earlier ones.
/// </summary>
public static class PolygonRasterizer
{
    /// <param name="labels">Row-major labels, <paramref name="width"/>×<paramref name="height"/>.</param>
    /// <param name="downsample">Level-0 pixels per label pixel: label pixel (i, j) has its centre at ((i+½)·d, (j+½)·d).</param>
    public static void Fill(Span<byte> labels, int width, int height, IEnumerable<AnnotatedPolygon> polygons, double downsample)
    {
        if (labels.Length < (long)width * height) throw new ArgumentException("label buffer too small", nameof(labels));
        var crossings = new List<double>();
        foreach (var polygon in polygons)
        {
            double minY = double.MaxValue, maxY = double.MinValue;
            foreach (var ring in polygon.Rings)
                foreach (var (_, y) in ring) { minY = Math.Min(minY, y); maxY = Math.Max(maxY, y); }
            int j0 = Math.Max(0, (int)Math.Floor(minY / downsample - 0.5));
            int j1 = Math.Min(height - 1, (int)Math.Ceiling(maxY / downsample - 0.5));
            byte value = (byte)polygon.ClassId;
            for (int j = j0; j <= j1; j++)
            {
                double cy = (j + 0.5) * downsample;
                crossings.Clear();
                foreach (var ring in polygon.Rings)
                {
                    for (int k = 0; k < ring.Count; k++)
                    {
                        var (x1, y1) = ring[k];
                        var (x2, y2) = ring[(k + 1) % ring.Count];
                        // Half-open rule (y1 <= cy < y2) so a vertex on the scan line is counted once.
                        if ((y1 <= cy && cy < y2) || (y2 <= cy && cy < y1))
                            crossings.Add(x1 + (cy - y1) * (x2 - x1) / (y2 - y1));
                    }
                }
                crossings.Sort();
                var row = labels.Slice(j * width, width);
                for (int k = 0; k + 1 < crossings.Count; k += 2)
                {
                    // Pixels whose centre (i+½)·d lies in [xa, xb).
                    int i0 = Math.Max(0, (int)Math.Ceiling(crossings[k] / downsample - 0.5));
                    int i1 = Math.Min(width - 1, (int)Math.Ceiling(crossings[k + 1] / downsample - 0.5) - 1);
                    if (i1 >= i0) row.Slice(i0, i1 - i0 + 1).Fill(value);
                }
            }
        }
    }
}
