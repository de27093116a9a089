using System.Text.Json;
using WsiSegment.Tiling.Labels;

namespace WsiSegment.Tiling.Training;

/// <summary>One annotated polygon: its label (a class id, or <see cref="LabelValues.Ignore"/>) and its rings
/// (outer first, then holes) in level-0 pixel coordinates.</summary>
public sealed record AnnotatedPolygon(int ClassId, IReadOnlyList<IReadOnlyList<(double X, double Y)>> Rings);

/// <summary>How QuPath class names become labels.</summary>
public sealed record GeoJsonReadOptions
{
    /// <summary>Class names in id order (line n of the names file = class n), matched case-insensitively.</summary>
    public required IReadOnlyList<string> ClassNames { get; init; }

    /// <summary>Renames applied before the lookup (<c>--class-map old=new</c>); new may be "ignore".</summary>
    public IReadOnlyDictionary<string, string> ClassMap { get; init; } = new Dictionary<string, string>();

    /// <summary>Also rasterise detections and cells (QuPath's objectType detection/cell/tile); annotations only by default.</summary>
    public bool IncludeDetections { get; init; }
}

/// <summary>Polygons read from a GeoJSON file, and what was left out (unknown class names with their feature counts).</summary>
public sealed record GeoJsonContent(IReadOnlyList<AnnotatedPolygon> Polygons, int SkippedUnclassified, int SkippedNotPolygon,
    int SkippedDetections, IReadOnlyDictionary<string, int> UnknownClasses);

/// <summary>
/// Reads GeoJSON as QuPath exports it: a FeatureCollection, a single Feature or an array of Features; Polygon,
/// MultiPolygon and GeometryCollection geometries with holes; <c>properties.classification.name</c> mapped to a class
/// id through the names list (after <see cref="GeoJsonReadOptions.ClassMap"/>). QuPath's "Ignore*" class, and any name
/// mapped to "ignore", marks pixels as unlabelled. Features of an unknown class are skipped and counted per name;
/// detections (objectType detection/cell/tile, or QuPath 0.2's PathDetectionObject/PathCellObject ids) are skipped
/// unless asked for. Other properties (isLocked, measurements, colours) are not read.
/// </summary>
public static class GeoJsonAnnotations
{
    private static readonly string[] DetectionTypes = ["detection", "cell", "tile", "PathDetectionObject", "PathCellObject", "PathTileObject"];

    public static GeoJsonContent Load(string path, IReadOnlyList<string> classNames) => Load(path, new GeoJsonReadOptions { ClassNames = classNames });

    public static GeoJsonContent Load(string path, GeoJsonReadOptions options)
    {
        if (!File.Exists(path)) throw new LabelFileException(path, "no such file");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new LabelFileException(path, "not valid JSON: " + e.Message, e); }
        using (doc)
        {
            var ids = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
            for (int i = 0; i < options.ClassNames.Count; i++) ids[options.ClassNames[i]] = i;
            var map = new Dictionary<string, string>(options.ClassMap, StringComparer.OrdinalIgnoreCase);
            var polygons = new List<AnnotatedPolygon>();
            var unknown = new SortedDictionary<string, int>(StringComparer.Ordinal);
            int unclassified = 0, notPolygon = 0, detections = 0, index = 0;
            foreach (var feature in Features(path, doc.RootElement))
            {
                index++;
                if (feature.ValueKind != JsonValueKind.Object) { notPolygon++; continue; }
                var props = feature.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object ? p : default;
                if (!options.IncludeDetections && IsDetection(feature, props)) { detections++; continue; }
                if (!feature.TryGetProperty("geometry", out var geometry) || geometry.ValueKind != JsonValueKind.Object)
                {
                    notPolygon++;
                    continue;
                }
                string? name = ClassName(props);
                if (string.IsNullOrEmpty(name)) { unclassified++; continue; }
                if (map.TryGetValue(name, out var renamed)) name = renamed;
                int label;
                if (ids.TryGetValue(name, out int id)) label = id;
                else if (IsIgnoreName(name)) label = LabelValues.Ignore;
                else
                {
                    unknown[name] = unknown.GetValueOrDefault(name) + 1;
                    continue;
                }
                try
                {
                    int before = polygons.Count;
                    AddGeometry(geometry, label, polygons);
                    if (polygons.Count == before) notPolygon++;
                }
                catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException or IndexOutOfRangeException)
                {
                    throw new LabelFileException(path, $"feature {index}: malformed geometry coordinates", e);
                }
            }
            return new GeoJsonContent(polygons, unclassified, notPolygon, detections, unknown);
        }
    }

    /// <summary>QuPath's built-in "Ignore*" class (and plain "ignore"): pixels nobody labelled on purpose.</summary>
    public static bool IsIgnoreName(string name) =>
        name.Equals("ignore", StringComparison.OrdinalIgnoreCase) || name.Equals("ignore*", StringComparison.OrdinalIgnoreCase);

    private static bool IsDetection(JsonElement feature, JsonElement props)
    {
        string? type = props.ValueKind == JsonValueKind.Object && props.TryGetProperty("objectType", out var t) && t.ValueKind == JsonValueKind.String
            ? t.GetString() : null;
        // QuPath 0.2 wrote the object type as the feature's id.
        type ??= feature.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
        return type is not null && DetectionTypes.Contains(type, StringComparer.OrdinalIgnoreCase);
    }

    private static string? ClassName(JsonElement props)
    {
        if (props.ValueKind != JsonValueKind.Object || !props.TryGetProperty("classification", out var cls)) return null;
        if (cls.ValueKind == JsonValueKind.String) return cls.GetString();
        if (cls.ValueKind != JsonValueKind.Object) return null;
        if (cls.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String) return n.GetString();
        // QuPath 0.4+ may list the parts of a derived class ("Tumor: Positive") as names.
        if (cls.TryGetProperty("names", out var names) && names.ValueKind == JsonValueKind.Array)
            return string.Join(": ", names.EnumerateArray().Select(e => e.GetString()));
        return null;
    }

    private static void AddGeometry(JsonElement geometry, int label, List<AnnotatedPolygon> polygons)
    {
        string type = geometry.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "";
        switch (type)
        {
            case "Polygon":
                polygons.Add(new AnnotatedPolygon(label, Rings(geometry.GetProperty("coordinates"))));
                break;
            case "MultiPolygon":
                foreach (var poly in geometry.GetProperty("coordinates").EnumerateArray()) polygons.Add(new AnnotatedPolygon(label, Rings(poly)));
                break;
            case "GeometryCollection":
                foreach (var g in geometry.GetProperty("geometries").EnumerateArray()) AddGeometry(g, label, polygons);
                break;
        }
    }

    private static IEnumerable<JsonElement> Features(string path, JsonElement root)
    {
        if (root.ValueKind == JsonValueKind.Array) return root.EnumerateArray();
        if (root.ValueKind != JsonValueKind.Object)
            throw new LabelFileException(path, "expected a GeoJSON FeatureCollection, Feature or array of Features");
        string type = root.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "";
        return type switch
        {
            "FeatureCollection" when root.TryGetProperty("features", out var f) && f.ValueKind == JsonValueKind.Array => f.EnumerateArray(),
            "Feature" => [root],
            _ => throw new LabelFileException(path, $"expected a GeoJSON FeatureCollection (with features), Feature or array of Features, found '{type}'"),
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
