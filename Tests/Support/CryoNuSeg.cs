using System.Text.Json.Nodes;

namespace WsiSegment.Tests.Support;

/// <summary>The two real H&amp;E patches with hand-drawn nucleus outlines in ../shared/real-annotations/cryonuseg.</summary>
public static class CryoNuSeg
{
    public const string Pancreas = "Pancreas_TCGA-S4-A8RO";
    public const string Thyroid = "ThyroidGland_TCGA-DE-A4MA";
    public const int Size = 512;
    public static readonly string[] ClassNames = ["background", "Nucleus"];

    public static string Root => Repo.SharedFile("real-annotations", "cryonuseg");
    public static string Image(string name) => Path.Combine(Root, "images", name + ".tif");
    public static string Mask(string name) => Path.Combine(Root, "masks", name + ".png");
    public static string GeoJson(string name) => Path.Combine(Root, "geojson", name + ".geojson");
    public static string Names => Path.Combine(Root, "classes.txt");
    public static string Split => Path.Combine(Root, "split.tsv");

    /// <summary>Microns per pixel of each patch (the README's table).</summary>
    public static double Mpp(string name) => name == Pancreas ? 0.2525 : 0.2480;

    /// <summary>The exterior ring of every nucleus outline in the shipped GeoJSON, as JSON arrays of [x, y].</summary>
    public static List<JsonArray> NucleusRings(string name)
    {
        var root = JsonNode.Parse(File.ReadAllText(GeoJson(name)))!;
        return root["features"]!.AsArray().Select(f => f!["geometry"]!["coordinates"]![0]!.AsArray()).ToList();
    }
}
