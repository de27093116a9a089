namespace WsiSegment.Stitching.Output;

/// <summary>
/// 4-connected regions of equal label in a label image, found in two linear passes (union–find on provisional ids).
/// The contour tracer keeps pixels that touch only at a corner apart, so each traced polygon is exactly one region:
/// a ring belongs to the region of the pixel on its right, which assigns holes to shells without any geometry test.
/// </summary>
public sealed class LabelComponents
{
    private LabelComponents(int[] ids, int[] areas)
    {
        Ids = ids;
        Areas = areas;
    }

    /// <summary>Region id per pixel (row-major, ids 0..Count-1 in raster order of their first pixel).</summary>
    public int[] Ids { get; }

    /// <summary>Pixels per region.</summary>
    public int[] Areas { get; }

    public int Count => Areas.Length;

    public static LabelComponents Find(ReducedLabels labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        int w = labels.Width, h = labels.Height;
        var src = labels.Labels;
        var ids = new int[w * h];
        var parent = new List<int>(1024);
        for (int y = 0; y < h; y++)
        {
            int row = y * w;
            for (int x = 0; x < w; x++)
            {
                int i = row + x;
                byte v = src[i];
                bool left = x > 0 && src[i - 1] == v, up = y > 0 && src[i - w] == v;
                if (left && up)
                {
                    int a = Root(parent, ids[i - 1]), b = Root(parent, ids[i - w]);
                    if (a != b) parent[Math.Max(a, b)] = Math.Min(a, b);
                    ids[i] = Math.Min(a, b);
                }
                else if (left) ids[i] = ids[i - 1];
                else if (up) ids[i] = ids[i - w];
                else
                {
                    ids[i] = parent.Count;
                    parent.Add(parent.Count);
                }
            }
        }
        // Compact the roots to 0..Count-1 (a root is always smaller than the ids merged into it).
        var compact = new int[parent.Count];
        int count = 0;
        for (int p = 0; p < parent.Count; p++)
            compact[p] = parent[p] == p ? count++ : compact[Root(parent, p)];
        var areas = new int[count];
        for (int i = 0; i < ids.Length; i++)
        {
            int c = compact[ids[i]];
            ids[i] = c;
            areas[c]++;
        }
        return new LabelComponents(ids, areas);
    }

    private static int Root(List<int> parent, int i)
    {
        while (parent[i] != i)
        {
            int up = parent[parent[i]];
            parent[i] = up;
            i = up;
        }
        return i;
    }
}
