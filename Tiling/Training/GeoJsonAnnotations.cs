using System.Globalization;
using System.Text.Json;
using WsiSegment.Tiling.Labels;

namespace WsiSegment.Tiling.Training;

/// <summary>One annotated polygon: its class and its rings (outer first, then holes) in level-0 pixel coordinates.</summary>
public sealed record AnnotatedPolygon(int ClassId, IReadOnlyList<IReadOnlyList<(double X, double Y)>> Rings);

/// <summary>Polygons read from a GeoJSON file, and what was left out.</summary>
public sealed record GeoJsonContent(IReadOnlyList<AnnotatedPolygon> Polygons, int SkippedUnclassified, int SkippedNotPolygon);

/// <summary>
/// Reads QuPath-style GeoJSON annotations (a FeatureCollection, a single Feature or an array of Features) whose
/// Polygon/MultiPolygon geometries carry <c>properties.classification.name</c>, mapping names to class ids
/// through the names list (case-insensitive). A class name not in the list is an error naming the file.
/// </summary>
public static class GeoJsonAnnotations
{
    public static GeoJsonContent Load(string path, IReadOnlyList<string> classNames)
    {
        if (!File.Exists(path)) throw new LabelFileException(path, "no such file");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new LabelFileException(path, "not valid JSON: " + e.Message, e); }
        using (doc)
        {
            var ids = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
            for (int i = 0; i < classNames.Count; i++) ids[classNames[i]] = i;
            var polygons = new List<AnnotatedPolygon>();
            int unclassified = 0, notPolygon = 0, index = 0;
            foreach (var feature in Features(path, doc.RootElement))
            {
                index++;
                if (!feature.TryGetProperty("geometry", out var geometry) || geometry.ValueKind != JsonValueKind.Object)
                {
                    notPolygon++;
                    continue;
                }
                string type = geometry.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "";
                if (type is not ("Polygon" or "MultiPolygon"))
                {
                    notPolygon++;
                    continue;
                }
                string? name = feature.TryGetProperty("properties", out var props) && props.ValueKind == JsonValueKind.Object
                    && props.TryGetProperty("classification", out var cls) && cls.ValueKind == JsonValueKind.Object
                    && cls.TryGetProperty("name", out var n) ? n.GetString() : null;
                if (string.IsNullOrEmpty(name))
                {
                    unclassified++;
                    continue;
                }
                if (!ids.TryGetValue(name, out int id))
                    throw new LabelFileException(path, $"feature {index} has class '{name}', which is not in the class names ({string.Join(", ", classNames)})");
                try
                {
                    var coords = geometry.GetProperty("coordinates");
                    if (type == "Polygon") polygons.Add(new AnnotatedPolygon(id, Rings(coords)));
                    else
                        foreach (var poly in coords.EnumerateArray()) polygons.Add(new AnnotatedPolygon(id, Rings(poly)));
                }
                catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException)
                {
                    throw new LabelFileException(path, $"feature {index}: malformed {type} coordinates", e);
                }
            }
            return new GeoJsonContent(polygons, unclassified, notPolygon);
        }
    }

    private static IEnumerable<JsonElement> Features(string path, JsonElement root)
    {
        if (root.ValueKind == JsonValueKind.Array) return root.EnumerateArray();
        string type = root.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "";
        return type switch
        {
            "FeatureCollection" => root.GetProperty("features").EnumerateArray(),
            "Feature" => [root],
            _ => throw new LabelFileException(path, $"expected a GeoJSON FeatureCollection, Feature or array of Features, found '{type}'"),
        };
    }

    private static IReadOnlyList<IReadOnlyList<(double, double)>> Rings(JsonElement polygon)
    {
        var rings = new List<IReadOnlyList<(double, double)>>();
        foreach (var ring in polygon.EnumerateArray())
        {
            var points = new List<(double, double)>();
            foreach (var p in ring.EnumerateArray())
                points.Add((p[0].GetDouble(), p[1].GetDouble()));
            if (points.Count >= 3) rings.Add(points);
        }
        return rings;
    }
}
