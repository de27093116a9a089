using NetTopologySuite.Algorithm;
using NetTopologySuite.Geometries;

namespace WsiSegment.Stitching.Output;

/// <summary>
/// Exact outlines of one label's pixels as polygons with holes, traced along pixel edges in one pass (linear in the
/// pixel count; unioning per-pixel runs instead took tens of seconds on a 2048² mask).
/// <para>Each boundary edge is directed with the label's pixel on its right; rings follow edges and, where two pixels
/// of the label touch only at a corner, turn right (keeping to the same pixel), so a ring never crosses itself; where
/// it touches itself it is split into simple loops. Loops with positive shoelace area (image axes, y down) are shells, the others holes; a hole belongs to the
/// shell of the 4-connected region (<see cref="LabelComponents"/>) of the pixel on its right. Such polygons are valid
/// without a test: rings never cross or share an edge, and a 4-connected region has a connected interior, so rings
/// that touch at corners cannot cut it in two (JTS's IsValid and GeometryFixer on big speckled polygons were the
/// superlinear part of GeoJSON writing).</para>
/// </summary>
public static class LabelContours
{
    // Directions: 0 = +x, 1 = +y, 2 = −x, 3 = −y (image axes, y down).
    private static readonly int[] Dx = [1, 0, -1, 0];
    private static readonly int[] Dy = [0, 1, 0, -1];

    /// <param name="minArea">Shells and holes smaller than this (in pixels²) are dropped: speckle from a noisy model
    /// would otherwise give tens of thousands of one-pixel rings (0 keeps every ring).</param>
    public static MultiPolygon Trace(ReducedLabels labels, byte label, GeometryFactory factory, double minArea = 0)
    {
        var traced = Trace(labels, LabelComponents.Find(labels), label, factory, minArea, int.MaxValue);
        return factory.CreateMultiPolygon(traced.Polygons.ToArray());
    }

    /// <summary>
    /// The polygons of one label, one per 4-connected region (<paramref name="components"/>) whose outline encloses at
    /// least <paramref name="minArea"/> pixels², the <paramref name="maxPolygons"/> largest of them if there are more.
    /// Linear in the pixel count: holes go to the region on their right, and the polygons are valid by construction.
    /// </summary>
    public static TracedLabel Trace(ReducedLabels labels, LabelComponents components, byte label, GeometryFactory factory, double minArea, int maxPolygons)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(components);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPolygons, 0);
        int w = labels.Width, h = labels.Height, vw = w + 1;
        var src = labels.Labels;
        var outgoing = new byte[vw * (h + 1)]; // per pixel corner: bit d set = a boundary edge leaves here in direction d
        bool any = false;
        for (int y = 0; y < h; y++)
        {
            int row = y * w;
            for (int x = 0; x < w; x++)
            {
                if (src[row + x] != label) continue;
                any = true;
                if (y == 0 || src[row - w + x] != label) outgoing[y * vw + x] |= 1 << 0;               // top: (x,y)→(x+1,y)
                if (x == w - 1 || src[row + x + 1] != label) outgoing[y * vw + x + 1] |= 1 << 1;       // right: (x+1,y)→(x+1,y+1)
                if (y == h - 1 || src[row + w + x] != label) outgoing[(y + 1) * vw + x + 1] |= 1 << 2; // bottom: (x+1,y+1)→(x,y+1)
                if (x == 0 || src[row + x - 1] != label) outgoing[(y + 1) * vw + x] |= 1 << 3;         // left: (x,y+1)→(x,y)
            }
        }
        if (!any) return TracedLabel.Empty;

        var cornerIndex = new Dictionary<long, int>(); // scratch for SimpleLoops
        var shellOf = new Dictionary<int, int>();       // region id → index in shells
        var shells = new List<(LinearRing Ring, double Area, int Region)>();
        var holes = new List<(LinearRing Ring, Coordinate Inside, int Region)>();
        HashSet<int>? regionsWithManyShells = null;
        var coords = new List<Coordinate>();
        for (int start = 0; start < outgoing.Length; start++)
        {
            while (outgoing[start] != 0)
            {
                int d0 = System.Numerics.BitOperations.TrailingZeroCount(outgoing[start]);
                int x = start % vw, y = start / vw, d = d0;
                coords.Clear();
                coords.Add(new Coordinate(x, y));
                double area2 = 0;
                while (true)
                {
                    int v = y * vw + x;
                    if (v != start || d != d0) outgoing[v] &= (byte)~(1 << d);
                    int nx = x + Dx[d], ny = y + Dy[d];
                    area2 += (double)x * ny - (double)nx * y;
                    x = nx; y = ny;
                    int bits = outgoing[y * vw + x];
                    // Prefer a right turn, then straight on, then a left turn.
                    int next = (bits & (1 << ((d + 1) & 3))) != 0 ? (d + 1) & 3
                        : (bits & (1 << d)) != 0 ? d
                        : (bits & (1 << ((d + 3) & 3))) != 0 ? (d + 3) & 3
                        : throw new InvalidOperationException($"open contour at ({x}, {y})");
                    if (y * vw + x == start && next == d0)
                    {
                        outgoing[start] &= (byte)~(1 << d0);
                        break;
                    }
                    if (next != d) coords.Add(new Coordinate(x, y)); // corners only
                    d = next;
                }
                // Four corners make a rectangle, which cannot touch itself: most speckle stops here.
                if (coords.Count == 4 && Math.Abs(area2) / 2 < minArea) continue;
                foreach (var loop in SimpleLoops(coords, cornerIndex))
                {
                    double loopArea2 = SignedArea2(loop);
                    if (Math.Abs(loopArea2) / 2 < minArea) continue;
                    var ring = factory.CreateLinearRing(loop);
                    var inside = InsideOfFirstEdge(loop);
                    int region = components.Ids[(int)inside.Y * w + (int)inside.X];
                    if (loopArea2 > 0)
                    {
                        // One outline per 4-connected region; a second would need the geometric fallback below.
                        if (!shellOf.TryAdd(region, shells.Count)) (regionsWithManyShells ??= []).Add(region);
                        shells.Add((ring, loopArea2 / 2, region));
                    }
                    else holes.Add((ring, inside, region));
                }
            }
        }

        // Too fragmented for vector output: keep the largest regions, say how much was left out.
        var keep = Enumerable.Range(0, shells.Count).ToArray();
        int dropped = 0;
        double droppedArea = 0;
        if (shells.Count > maxPolygons)
        {
            Array.Sort(keep, (a, b) => shells[b].Area.CompareTo(shells[a].Area));
            dropped = shells.Count - maxPolygons;
            for (int i = maxPolygons; i < keep.Length; i++) droppedArea += shells[keep[i]].Area;
            keep = keep[..maxPolygons];
            Array.Sort(keep); // back to raster order
        }

        var holesOf = new List<LinearRing>?[shells.Count];
        foreach (var (ring, inside, region) in holes)
        {
            // A hole's shell encloses more than the hole, so it was kept by minArea whenever the hole was.
            int owner = regionsWithManyShells is not null && regionsWithManyShells.Contains(region)
                ? SmallestShellAround(shells, region, inside)
                : shellOf.TryGetValue(region, out int only) ? only
                : throw new InvalidOperationException("a hole without a shell: contour tracing is inconsistent");
            (holesOf[owner] ??= []).Add(ring);
        }
        var polygons = new List<Polygon>(keep.Length);
        var regions = new List<int>(keep.Length);
        foreach (int i in keep)
        {
            polygons.Add(factory.CreatePolygon(shells[i].Ring, holesOf[i]?.ToArray()));
            regions.Add(shells[i].Region);
        }
        return new TracedLabel(polygons, regions, dropped, droppedArea);
    }

    /// <summary>The smallest of a region's shells that contains the point: for a region traced as several shells,
    /// which tracing a 4-connected region along pixel edges should never give; a safe fallback, not a fast path.</summary>
    private static int SmallestShellAround(List<(LinearRing Ring, double Area, int Region)> shells, int region, Coordinate inside)
    {
        int owner = -1;
        for (int i = 0; i < shells.Count; i++)
            if (shells[i].Region == region && (owner < 0 || shells[i].Area < shells[owner].Area)
                && PointLocation.IsInRing(inside, shells[i].Ring.CoordinateSequence))
                owner = i;
        return owner >= 0 ? owner : throw new InvalidOperationException("a hole outside every shell of its region: contour tracing is inconsistent");
    }

    /// <summary>
    /// Splits a traced ring where it passes a corner twice (two pixels of the label touching diagonally, joined
    /// elsewhere, pinch off a pocket there). JTS calls such a self-touching ring invalid, and repairing thousands of
    /// them with GeometryFixer was most of GeoJSON's time on a noisy mask; as separate loops, the pocket is a hole
    /// (or an island) that touches the rest at one point, which is valid. Each loop is returned closed.
    /// </summary>
    private static IEnumerable<Coordinate[]> SimpleLoops(List<Coordinate> corners, Dictionary<long, int> position)
    {
        position.Clear();
        var stack = new List<Coordinate>(corners.Count);
        foreach (var c in corners)
        {
            long key = CornerKey(c.X, c.Y);
            if (position.TryGetValue(key, out int at))
            {
                var loop = new Coordinate[stack.Count - at + 1];
                // The pinch corner stays on the stack for the rest of the ring: this loop gets its own copy, as a
                // corner shared by two rings would be scaled twice when the geometry is transformed in place.
                loop[0] = stack[at].Copy();
                for (int i = at + 1; i < stack.Count; i++) loop[i - at] = stack[i];
                loop[^1] = stack[at].Copy();
                for (int i = at + 1; i < stack.Count; i++) position.Remove(CornerKey(stack[i].X, stack[i].Y));
                stack.RemoveRange(at + 1, stack.Count - at - 1);
                yield return loop;
            }
            else
            {
                position[key] = stack.Count;
                stack.Add(c);
            }
        }
        if (stack.Count >= 3) yield return [.. stack, stack[0].Copy()];
    }

    /// <summary>A pixel corner (integer coordinates) as one dictionary key.</summary>
    private static long CornerKey(double x, double y) => ((long)(int)x << 32) | (uint)(int)y;

    /// <summary>Twice the shoelace area of a closed loop (positive for shells: image axes, y down).</summary>
    private static double SignedArea2(Coordinate[] loop)
    {
        double sum = 0;
        for (int i = 0; i + 1 < loop.Length; i++) sum += loop[i].X * loop[i + 1].Y - loop[i + 1].X * loop[i].Y;
        return sum;
    }

    /// <summary>A pixel of the label beside the loop's first edge (on its right): locates a hole in its shell.</summary>
    private static Coordinate InsideOfFirstEdge(Coordinate[] loop)
    {
        double dx = Math.Sign(loop[1].X - loop[0].X), dy = Math.Sign(loop[1].Y - loop[0].Y);
        return new Coordinate(loop[0].X + 0.5 * dx - 0.5 * dy, loop[0].Y + 0.5 * dy + 0.5 * dx);
    }
}

/// <summary>One label's traced polygons (each with its region id) and what the polygon cap left out.</summary>
public sealed record TracedLabel(IReadOnlyList<Polygon> Polygons, IReadOnlyList<int> Regions, int PolygonsDropped, double AreaDropped)
{
    public static readonly TracedLabel Empty = new([], [], 0, 0);
}
