using System.Text.Json;
using NetTopologySuite.Geometries;
using NetTopologySuite.Index.Strtree;
using NetTopologySuite.Simplify;

namespace WsiSegment.Stitching.Output;

/// <summary>One class's region as a (multi)polygon in level-0 pixel coordinates.</summary>
public sealed record ClassRegion(int Label, LabelClass Class, Geometry Geometry);

/// <summary>
/// Label image → QuPath-importable GeoJSON: one MultiPolygon feature per non-background class present, with
/// <c>properties: { objectType: "annotation", classification: { name, color: [r, g, b] } }</c>, coordinates in
/// level-0 pixels.
/// <para>Polygonising: each class's outlines are traced along pixel edges (<see cref="LabelContours"/>), polygons and
/// holes smaller than <c>minPolygonArea</c> reduced pixels² dropped (speckle), each polygon simplified on its own
/// (<see cref="TopologyPreservingSimplifier"/>, tolerance in reduced pixels), then scaled to level 0.</para>
/// <para>Why per polygon: simplifying one MultiPolygon of tens of thousands of rings (a noisy model's speckle) is
/// superlinear in NTS and ran for minutes. Polygons of one class only touch at corners before simplifying; the few
/// whose simplified outlines come to overlap a neighbour are put back to their exact (pixel-edge) outlines, so every
/// MultiPolygon stays valid without a whole-geometry IsValid/GeometryFixer.</para>
/// </summary>
public static class GeoJsonWriter
{
    private static readonly GeometryFactory Factory = new();

    /// <summary>Polygons of every non-background class present in <paramref name="labels"/>.</summary>
    /// <param name="labels">The (reduced) label image.</param>
    /// <param name="classes">Names and colours; label 0 is background and gets no feature.</param>
    /// <param name="analysisToLevel0">Level-0 pixels per analysis pixel (the analysis level's downsample).</param>
    /// <param name="tolerance">Simplification tolerance in reduced pixels (0 = none).</param>
    /// <param name="minPolygonArea">Polygons and holes smaller than this many reduced pixels² are dropped (0 = keep all).
    /// The default 4 removes single pixels and 2×1/3×1 specks that QuPath would import as thousands of tiny objects.</param>
    public static IReadOnlyList<ClassRegion> Polygonise(ReducedLabels labels, LabelClasses classes, double analysisToLevel0 = 1, double tolerance = 1,
        double minPolygonArea = DefaultMinPolygonArea)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classes);
        if (!double.IsFinite(analysisToLevel0) || analysisToLevel0 <= 0)
            throw new ArgumentOutOfRangeException(nameof(analysisToLevel0), analysisToLevel0, "downsample must be positive");
        if (!double.IsFinite(tolerance) || tolerance < 0)
            throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "simplification tolerance must be ≥ 0");
        if (!double.IsFinite(minPolygonArea) || minPolygonArea < 0)
            throw new ArgumentOutOfRangeException(nameof(minPolygonArea), minPolygonArea, "minimum polygon area must be ≥ 0");
        // Classes are independent: trace and simplify them in parallel (this runs after the model is done, when
        // every core is free), keeping the features in class order.
        var regions = new ClassRegion?[classes.Count];
        Parallel.For(1, classes.Count, k =>
        {
            var traced = LabelContours.Trace(labels, (byte)k, Factory, minPolygonArea);
            if (traced.IsEmpty) return;
            var multi = tolerance > 0 ? SimplifyEach(traced, tolerance) : traced;
            multi.Apply(new ToLevel0(labels, analysisToLevel0));
            multi.GeometryChanged();
            if (!multi.IsEmpty) regions[k] = new ClassRegion(k, classes[k], multi);
        });
        return regions.OfType<ClassRegion>().ToList();
    }

    /// <summary>Default <c>minPolygonArea</c> in reduced pixels².</summary>
    public const double DefaultMinPolygonArea = 4;

    /// <summary>
    /// Simplifies each polygon separately (linear overall), then restores the exact outline of any polygon that became
    /// invalid or overlaps another one's interior (found through an STRtree of the simplified envelopes).
    /// </summary>
    private static MultiPolygon SimplifyEach(MultiPolygon exact, double tolerance)
    {
        int n = exact.NumGeometries;
        var result = new Polygon[n];
        for (int i = 0; i < n; i++)
        {
            var original = (Polygon)exact.GetGeometryN(i);
            result[i] = original.NumPoints > 5 // a rectangle (most speckle) has nothing to simplify
                && DouglasPeuckerSimplifier.Simplify(original, tolerance) is Polygon p && !p.IsEmpty && p.NumPoints < original.NumPoints && p.IsValid
                ? p : original;
        }
        // Exact outlines never overlap, so reverting both polygons of an overlapping pair converges.
        var suspects = Enumerable.Range(0, n).Where(i => !ReferenceEquals(result[i], exact.GetGeometryN(i))).ToHashSet();
        while (suspects.Count > 0)
        {
            var index = new STRtree<int>();
            for (int i = 0; i < n; i++) index.Insert(result[i].EnvelopeInternal, i);
            var revert = new HashSet<int>();
            foreach (int i in suspects)
            {
                // Most neighbours in the envelope index do not even meet: a prepared (indexed) intersects test rules
                // them out before the full Relate, which was most of the simplification's time.
                NetTopologySuite.Geometries.Prepared.IPreparedGeometry? prepared = null;
                foreach (int j in index.Query(result[i].EnvelopeInternal))
                    if (j != i && !(j < i && suspects.Contains(j)) && (!ReferenceEquals(result[i], exact.GetGeometryN(i)) || !ReferenceEquals(result[j], exact.GetGeometryN(j)))
                        && (prepared ??= NetTopologySuite.Geometries.Prepared.PreparedGeometryFactory.Prepare(result[i])).Intersects(result[j])
                        && Clash(result[i], result[j]))
                    {
                        revert.Add(i);
                        revert.Add(j);
                    }
            }
            foreach (int i in revert) result[i] = (Polygon)exact.GetGeometryN(i);
            suspects = revert;
        }
        return Factory.CreateMultiPolygon(result);
    }

    /// <summary>Interiors overlap or boundaries share a segment: either makes a MultiPolygon invalid.</summary>
    private static bool Clash(Polygon a, Polygon b)
    {
        var m = a.Relate(b);
        return m.Get(Location.Interior, Location.Interior) == Dimension.Surface || m.Get(Location.Boundary, Location.Boundary) == Dimension.Curve;
    }

    /// <summary>Writes the regions as a GeoJSON FeatureCollection (under a temporary name, renamed when complete).</summary>
    public static void Write(string path, IReadOnlyList<ClassRegion> regions)
    {
        ArgumentNullException.ThrowIfNull(regions);
        AtomicFile.Write(path, temp =>
        {
            using var stream = File.Create(temp);
            using var json = new Utf8JsonWriter(stream);
            json.WriteStartObject();
            json.WriteString("type", "FeatureCollection");
            json.WriteStartArray("features");
            foreach (var region in regions)
            {
                json.WriteStartObject();
                json.WriteString("type", "Feature");
                json.WriteString("id", Guid.NewGuid().ToString());
                json.WriteStartObject("geometry");
                json.WriteString("type", "MultiPolygon");
                json.WriteStartArray("coordinates");
                for (int i = 0; i < region.Geometry.NumGeometries; i++)
                {
                    var polygon = (Polygon)region.Geometry.GetGeometryN(i);
                    json.WriteStartArray();
                    WriteRing(json, polygon.ExteriorRing);
                    foreach (var hole in polygon.InteriorRings) WriteRing(json, hole);
                    json.WriteEndArray();
                }
                json.WriteEndArray();
                json.WriteEndObject();
                json.WriteStartObject("properties");
                json.WriteString("objectType", "annotation");
                json.WriteString("name", region.Class.Name);
                json.WriteStartObject("classification");
                json.WriteString("name", region.Class.Name);
                json.WriteStartArray("color");
                json.WriteNumberValue(region.Class.Color.R);
                json.WriteNumberValue(region.Class.Color.G);
                json.WriteNumberValue(region.Class.Color.B);
                json.WriteEndArray();
                json.WriteEndObject();
                json.WriteNumber("label", region.Label);
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    /// <summary>Polygonises and writes in one go; returns the regions written.</summary>
    public static IReadOnlyList<ClassRegion> Write(string path, ReducedLabels labels, LabelClasses classes, double analysisToLevel0 = 1, double tolerance = 1,
        double minPolygonArea = DefaultMinPolygonArea)
    {
        var regions = Polygonise(labels, classes, analysisToLevel0, tolerance, minPolygonArea);
        Write(path, regions);
        return regions;
    }

    private static void WriteRing(Utf8JsonWriter json, LineString ring)
    {
        json.WriteStartArray();
        foreach (var c in ring.Coordinates)
        {
            json.WriteStartArray();
            json.WriteNumberValue(Math.Round(c.X, 2));
            json.WriteNumberValue(Math.Round(c.Y, 2));
            json.WriteEndArray();
        }
        json.WriteEndArray();
    }

    /// <summary>Reduced pixel corners → level-0 pixels, clipped to the analysis image (the last block may be partial).</summary>
    private sealed class ToLevel0(ReducedLabels labels, double downsample) : IEntireCoordinateSequenceFilter
    {
        public bool Done => false;
        public bool GeometryChanged => true;

        public void Filter(CoordinateSequence seq)
        {
            // Read everything before writing: a simplified ring may close on the very Coordinate object it starts
            // with, which scaling in place would then scale twice.
            var xs = new double[seq.Count];
            var ys = new double[seq.Count];
            for (int i = 0; i < seq.Count; i++) (xs[i], ys[i]) = (seq.GetX(i), seq.GetY(i));
            for (int i = 0; i < seq.Count; i++)
            {
                seq.SetX(i, Math.Min(xs[i] * labels.Factor, labels.SourceWidth) * downsample);
                seq.SetY(i, Math.Min(ys[i] * labels.Factor, labels.SourceHeight) * downsample);
            }
        }
    }
}
