using System.Text.Json;
using NetTopologySuite.Geometries;
using NetTopologySuite.Simplify;

namespace WsiSegment.Stitching.Output;

/// <summary>One class's region as a (multi)polygon in level-0 pixel coordinates.</summary>
public sealed record ClassRegion(int Label, LabelClass Class, Geometry Geometry);

/// <summary>
/// Label image → QuPath-importable GeoJSON: one MultiPolygon feature per non-background class present, with
/// <c>properties: { objectType: "annotation", classification: { name, color: [r, g, b] } }</c>, coordinates in
/// level-0 pixels.
/// <para>Polygonising: each class's outlines are traced along pixel edges (<see cref="LabelContours"/>), simplified
/// (<see cref="TopologyPreservingSimplifier"/>, tolerance in reduced pixels), then scaled to level 0.</para>
/// </summary>
public static class GeoJsonWriter
{
    private static readonly GeometryFactory Factory = new();

    /// <summary>Polygons of every non-background class present in <paramref name="labels"/>.</summary>
    /// <param name="labels">The (reduced) label image.</param>
    /// <param name="classes">Names and colours; label 0 is background and gets no feature.</param>
    /// <param name="analysisToLevel0">Level-0 pixels per analysis pixel (the analysis level's downsample).</param>
    /// <param name="tolerance">Simplification tolerance in reduced pixels (0 = none).</param>
    public static IReadOnlyList<ClassRegion> Polygonise(ReducedLabels labels, LabelClasses classes, double analysisToLevel0 = 1, double tolerance = 1)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classes);
        if (!double.IsFinite(analysisToLevel0) || analysisToLevel0 <= 0)
            throw new ArgumentOutOfRangeException(nameof(analysisToLevel0), analysisToLevel0, "downsample must be positive");
        var regions = new List<ClassRegion>();
        for (int k = 1; k < classes.Count; k++)
        {
            Geometry union = LabelContours.Trace(labels, (byte)k, Factory);
            if (union.IsEmpty) continue;
            if (tolerance > 0) union = TopologyPreservingSimplifier.Simplify(union, tolerance);
            union.Apply(new ToLevel0(labels, analysisToLevel0));
            union.GeometryChanged();
            var multi = union switch
            {
                MultiPolygon m => m,
                Polygon p => Factory.CreateMultiPolygon([p]),
                _ => Factory.CreateMultiPolygon(Enumerable.Range(0, union.NumGeometries).Select(union.GetGeometryN).OfType<Polygon>().ToArray()),
            };
            if (!multi.IsEmpty) regions.Add(new ClassRegion(k, classes[k], multi));
        }
        return regions;
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
    public static IReadOnlyList<ClassRegion> Write(string path, ReducedLabels labels, LabelClasses classes, double analysisToLevel0 = 1, double tolerance = 1)
    {
        var regions = Polygonise(labels, classes, analysisToLevel0, tolerance);
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
            for (int i = 0; i < seq.Count; i++)
            {
                seq.SetX(i, Math.Min(seq.GetX(i) * labels.Factor, labels.SourceWidth) * downsample);
                seq.SetY(i, Math.Min(seq.GetY(i) * labels.Factor, labels.SourceHeight) * downsample);
            }
        }
    }
}
