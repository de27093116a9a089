using System.Text.Json;
using NetTopologySuite.Geometries;
using WsiSegment.Core.Classes;

namespace WsiSegment.Stitching.Output;

/// <summary>One class's region as a (multi)polygon in level-0 pixel coordinates; <paramref name="PolygonsDropped"/>
/// smaller polygons (<paramref name="AreaDropped"/> level-0 pixels²) left out by the per-class cap.</summary>
public sealed record ClassRegion(int Label, ClassInfo Class, Geometry Geometry, int PolygonsDropped = 0, double AreaDropped = 0);

/// <summary>
/// Label image → QuPath-importable GeoJSON: one MultiPolygon feature per non-background class present, with
/// <c>properties: { objectType: "annotation", classification: { name, color: [r, g, b] } }</c>, coordinates in
/// level-0 pixels.
/// <para>Polygonising, linear in the pixel count on any map: 4-connected regions of equal label are found once
/// (<see cref="LabelComponents"/>); each class's outlines are traced along pixel edges (<see cref="LabelContours"/>),
/// polygons and holes smaller than <c>minPolygonArea</c> reduced pixels² dropped (speckle), at most
/// <c>maxPolygonsPerClass</c> polygons kept (the largest); polygons with no other polygon of their class nearby are
/// simplified (<see cref="ContourSimplifier"/>, tolerance in reduced pixels), then scaled to level 0: no test of
/// simplified polygons against each other, which is what made the previous writer superlinear on noisy maps.</para>
/// </summary>
public static class GeoJsonWriter
{
    private static readonly GeometryFactory Factory = new();

    /// <summary>Default <c>maxPolygonsPerClass</c>: beyond this a class is speckle rather than regions, and QuPath
    /// slows to a crawl importing it.</summary>
    public const int DefaultMaxPolygonsPerClass = 50_000;

    /// <summary>Polygons of every non-background class present in <paramref name="labels"/>.</summary>
    /// <param name="labels">The (reduced) label image.</param>
    /// <param name="classes">Names and colours; label 0 is background and gets no feature.</param>
    /// <param name="analysisToLevel0">Level-0 pixels per analysis pixel (the analysis level's downsample).</param>
    /// <param name="tolerance">Simplification tolerance in reduced pixels (0 = none).</param>
    /// <param name="minPolygonArea">Polygons and holes smaller than this many reduced pixels² are dropped (0 = keep all).
    /// The default 4 removes single pixels and 2×1/3×1 specks that QuPath would import as thousands of tiny objects.</param>
    /// <param name="maxPolygonsPerClass">Per class, only the largest this many polygons are kept; the rest are counted
    /// in <see cref="ClassRegion.PolygonsDropped"/>.</param>
    public static IReadOnlyList<ClassRegion> Polygonise(ReducedLabels labels, ClassTable classes, double analysisToLevel0 = 1, double tolerance = 1,
        double minPolygonArea = DefaultMinPolygonArea, int maxPolygonsPerClass = DefaultMaxPolygonsPerClass)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classes);
        if (!double.IsFinite(analysisToLevel0) || analysisToLevel0 <= 0)
            throw new ArgumentOutOfRangeException(nameof(analysisToLevel0), analysisToLevel0, "downsample must be positive");
        if (!double.IsFinite(tolerance) || tolerance < 0)
            throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "simplification tolerance must be ≥ 0");
        if (!double.IsFinite(minPolygonArea) || minPolygonArea < 0)
            throw new ArgumentOutOfRangeException(nameof(minPolygonArea), minPolygonArea, "minimum polygon area must be ≥ 0");
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPolygonsPerClass, 1);
        var components = LabelComponents.Find(labels);
        double areaToLevel0 = Math.Pow(labels.Factor * analysisToLevel0, 2);
        // Classes are independent: trace and simplify them in parallel (this runs after the model is done, when
        // every core is free), keeping the features in class order.
        var regions = new ClassRegion?[classes.Count];
        Parallel.For(ClassTable.BackgroundId + 1, classes.Count, k =>
        {
            var traced = LabelContours.Trace(labels, components, (byte)k, Factory, minPolygonArea, maxPolygonsPerClass);
            if (traced.Polygons.Count == 0) return;
            var multi = Factory.CreateMultiPolygon(ContourSimplifier.Simplify(traced, labels, components, (byte)k, tolerance));
            multi.Apply(new ToLevel0(labels, analysisToLevel0));
            multi.GeometryChanged();
            if (!multi.IsEmpty) regions[k] = new ClassRegion(k, classes[k], multi, traced.PolygonsDropped, traced.AreaDropped * areaToLevel0);
        });
        return regions.OfType<ClassRegion>().ToList();
    }

    /// <summary>Default <c>minPolygonArea</c> in reduced pixels².</summary>
    public const double DefaultMinPolygonArea = 4;

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
    public static IReadOnlyList<ClassRegion> Write(string path, ReducedLabels labels, ClassTable classes, double analysisToLevel0 = 1, double tolerance = 1,
        double minPolygonArea = DefaultMinPolygonArea, int maxPolygonsPerClass = DefaultMaxPolygonsPerClass)
    {
        var regions = Polygonise(labels, classes, analysisToLevel0, tolerance, minPolygonArea, maxPolygonsPerClass);
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
