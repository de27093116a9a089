using NetTopologySuite.Algorithm;
using NetTopologySuite.Algorithm.Locate;
using NetTopologySuite.Geometries;
using NetTopologySuite.Geometries.Utilities;
using NetTopologySuite.Index.Strtree;

namespace WsiSegment.Stitching.Output;

/// <summary>
/// Exact outlines of one label's pixels as polygons with holes, traced along pixel edges in one pass (linear in the
/// pixel count; unioning per-pixel runs instead took tens of seconds on a 2048² mask).
/// <para>Each boundary edge is directed with the label's pixel on its right; rings follow edges and, where two pixels
/// of the label touch only at a corner, turn right (keeping to the same pixel), so a ring never crosses itself; where
/// it touches itself it is split into simple loops. Loops with positive shoelace area (image axes, y down) are shells, the others holes; a hole belongs to the
/// smallest shell that contains the pixel beside it.</para>
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
        ArgumentNullException.ThrowIfNull(labels);
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
        if (!any) return factory.CreateMultiPolygon();

        var cornerIndex = new Dictionary<long, int>(); // scratch for SimpleLoops, then CornerTouchesAreHarmless
        var shells = new List<(LinearRing Ring, double Area)>();
        var holes = new List<(LinearRing Ring, Coordinate Inside)>();
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
                    if (loopArea2 > 0) shells.Add((ring, loopArea2 / 2));
                    else holes.Add((ring, InsideOfFirstEdge(loop)));
                }
            }
        }

        var holesOf = shells.Select(_ => new List<LinearRing>()).ToArray();
        if (holes.Count > 0)
        {
            var index = new STRtree<int>();
            for (int i = 0; i < shells.Count; i++) index.Insert(shells[i].Ring.EnvelopeInternal, i);
            // A large shell is asked about many holes: an indexed locator answers in log time, not a walk of the ring.
            var locators = new Dictionary<int, IndexedPointInAreaLocator>();
            foreach (var (ring, inside) in holes)
            {
                int owner = -1;
                foreach (int i in index.Query(new Envelope(inside)))
                {
                    if (owner >= 0 && shells[i].Area >= shells[owner].Area) continue;
                    bool within = shells[i].Ring.NumPoints < 64
                        ? PointLocation.IsInRing(inside, shells[i].Ring.CoordinateSequence)
                        : (locators.TryGetValue(i, out var locator) ? locator
                            : locators[i] = new IndexedPointInAreaLocator(shells[i].Ring)).Locate(inside) != Location.Exterior;
                    if (within) owner = i;
                }
                // A hole is smaller than its shell, so dropping small rings never orphans a kept hole.
                if (owner < 0) throw new InvalidOperationException("a hole outside every shell: contour tracing is inconsistent");
                holesOf[owner].Add(ring);
            }
        }
        // Shells of one label never overlap (they touch at most at corners), so the multipolygon is valid when each
        // polygon is; checking per polygon is linear, whereas a whole-geometry IsValid on a speckled mask took seconds.
        var polygons = new List<Polygon>(shells.Count);
        for (int i = 0; i < shells.Count; i++)
        {
            var polygon = factory.CreatePolygon(shells[i].Ring, holesOf[i].ToArray());
            if (CornerTouchesAreHarmless(polygon, cornerIndex) || polygon.IsValid) polygons.Add(polygon);
            else polygons.AddRange(Polygons(GeometryFixer.Fix(polygon))); // holes whose touches cut the interior in two (rare)
        }
        return factory.CreateMultiPolygon(polygons.ToArray());
    }

    /// <summary>
    /// A cheap sufficient test of validity for a traced polygon. Its rings run along pixel edges, never cross and never
    /// share an edge, and its holes lie inside its shell; they can only meet at pixel corners. That is valid unless a
    /// ring meets itself or the meetings between rings close a loop (which would cut the interior in two). Both show
    /// up as a repeated corner: in the same ring, or linking two rings already linked. JTS's IsValid (a topology
    /// graph per polygon, most of GeoJSON's time) then runs only for polygons that fail this test.
    /// </summary>
    private static bool CornerTouchesAreHarmless(Polygon polygon, Dictionary<long, int> ringAt)
    {
        int rings = polygon.NumInteriorRings + 1;
        ringAt.Clear();
        var parent = rings > 1 ? Enumerable.Range(0, rings).ToArray() : null;
        for (int r = 0; r < rings; r++)
        {
            var sequence = (r == 0 ? polygon.ExteriorRing : polygon.GetInteriorRingN(r - 1)).CoordinateSequence;
            for (int i = 0; i < sequence.Count - 1; i++) // the last point closes the ring
            {
                long key = CornerKey(sequence.GetX(i), sequence.GetY(i));
                if (!ringAt.TryAdd(key, r))
                {
                    int other = ringAt[key];
                    if (other == r || parent is null) return false;
                    int a = Root(parent, r), b = Root(parent, other);
                    if (a == b) return false;
                    parent[a] = b;
                }
            }
        }
        return true;

        static int Root(int[] parent, int i)
        {
            while (parent[i] != i) i = parent[i] = parent[parent[i]];
            return i;
        }
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
                for (int i = at; i < stack.Count; i++) loop[i - at] = stack[i];
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

    internal static IEnumerable<Polygon> Polygons(Geometry g) =>
        Enumerable.Range(0, g.NumGeometries).Select(g.GetGeometryN).OfType<Polygon>().Where(p => !p.IsEmpty);
}
