namespace WsiSegment.Stitching.Output;

/// <summary>
/// The names of one slide's outputs in a folder: STEM.mask.tif, STEM.mask.ome.tif, STEM.overlay.tif, STEM.geojson,
/// STEM.thumb.png, STEM.tissue.png, the report STEM.json (written last: its presence marks a complete set) and, for a
/// slide that failed, STEM.error.json. Every reader and writer of these files takes its names from here.
/// </summary>
public sealed record SlideOutputs(string Dir, string Stem)
{
    public const string MaskSuffix = ".mask.tif";
    public const string OmeMaskSuffix = ".mask.ome.tif";
    public const string OverlaySuffix = ".overlay.tif";
    public const string GeoJsonSuffix = ".geojson";
    public const string ThumbnailSuffix = ".thumb.png";
    public const string TissueSuffix = ".tissue.png";
    public const string ReportSuffix = ".json";
    public const string ErrorSuffix = ".error.json";

    /// <summary>The outputs of the slide at <paramref name="slidePath"/>, named by its stem, in <paramref name="dir"/>.</summary>
    public static SlideOutputs For(string slidePath, string dir) => new(dir, StemOf(slidePath));

    /// <summary>The outputs named by a path prefix "DIR/STEM".</summary>
    public static SlideOutputs AtPrefix(string pathPrefix) =>
        new(Path.GetDirectoryName(Path.GetFullPath(pathPrefix))!, Path.GetFileName(pathPrefix));

    /// <summary>File name without its slide extension(s): "a.b.svs" → "a.b", "x.ome.tif" → "x".</summary>
    public static string StemOf(string slidePath)
    {
        string name = Path.GetFileName(slidePath);
        if (name.EndsWith(".ome.tif", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".ome.tiff", StringComparison.OrdinalIgnoreCase))
            name = name[..name.LastIndexOf(".ome.", StringComparison.OrdinalIgnoreCase)];
        else
            name = Path.GetFileNameWithoutExtension(name);
        return name.Length == 0 ? "slide" : name;
    }

    /// <summary>The same names in another folder (the staging folder they are written in before being moved here).</summary>
    public SlideOutputs In(string dir) => this with { Dir = dir };

    public string Mask => PathOf(MaskSuffix);
    public string OmeMask => PathOf(OmeMaskSuffix);
    public string Overlay => PathOf(OverlaySuffix);
    public string GeoJson => PathOf(GeoJsonSuffix);
    public string Thumbnail => PathOf(ThumbnailSuffix);
    public string Tissue => PathOf(TissueSuffix);
    public string Report => PathOf(ReportSuffix);
    public string Error => PathOf(ErrorSuffix);

    /// <summary>The report's key for each output and its path, in the order the report lists them.</summary>
    public IEnumerable<(string Key, string Path)> Named()
    {
        yield return ("mask", Mask);
        yield return ("omeMask", OmeMask);
        yield return ("overlay", Overlay);
        yield return ("geojson", GeoJson);
        yield return ("thumbnail", Thumbnail);
        yield return ("tissue", Tissue);
    }

    private string PathOf(string suffix) => Path.Combine(Dir, Stem + suffix);
}
