using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using NetVips;
using WsiSegment.Tiling.Labels;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Tiling.Training;

/// <summary>How to cut a training dataset. Validated by <see cref="Validate"/>.</summary>
public sealed record ExtractOptions
{
    public int PatchSize { get; init; } = 384;
    public int Overlap { get; init; } = 64;

    /// <summary>Microns per pixel of the patches.</summary>
    public double TargetMpp { get; init; } = 2.0;

    /// <summary>Fraction of background-only patches kept (chosen deterministically from the seed), in [0, 1].</summary>
    public double KeepBackground { get; init; } = 0.1;

    /// <summary>Fraction of slides (not patches) that go to validation.</summary>
    public double ValFraction { get; init; } = 0.2;

    public int Seed { get; init; }

    /// <summary>Level-0 slide pixels per level-0 mask pixel, for mask annotations.</summary>
    public double MaskDownsample { get; init; } = 1.0;

    /// <summary>MPP to assume for slides that record none (null: such a slide is an error).</summary>
    public double? SlideMpp { get; init; }

    public required IReadOnlyList<string> ClassNames { get; init; }

    /// <summary>What GeoJSON pixels that no annotation covers are: unlabelled (the default; no loss, no metric) or background (class 0).</summary>
    public UnannotatedPixels Unannotated { get; init; } = UnannotatedPixels.Ignore;

    /// <summary>A mask value meaning "unlabelled" besides 255 (which always is), e.g. 0 for masks that leave unannotated pixels at 0.</summary>
    public int? IgnoreValue { get; init; }

    /// <summary>GeoJSON class renames (<c>--class-map old=new</c>).</summary>
    public IReadOnlyDictionary<string, string> ClassMap { get; init; } = new Dictionary<string, string>();

    /// <summary>Rasterise GeoJSON detections and cells too (annotations only by default).</summary>
    public bool IncludeDetections { get; init; }

    /// <summary>Source image → train/val/test; null: split by <see cref="ValFraction"/>.</summary>
    public SplitFile? Split { get; init; }

    public void Validate()
    {
        if (PatchSize is < 16 or > 8192) throw new ArgumentOutOfRangeException(nameof(PatchSize), PatchSize, "patch size must be 16..8192");
        if (Overlap < 0 || Overlap >= PatchSize) throw new ArgumentOutOfRangeException(nameof(Overlap), Overlap, "overlap must be ≥ 0 and smaller than the patch");
        if (!(TargetMpp > 0)) throw new ArgumentOutOfRangeException(nameof(TargetMpp), TargetMpp, "target MPP must be positive");
        if (!(KeepBackground is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(KeepBackground), KeepBackground, "keep-background must be in [0, 1]");
        if (!(ValFraction is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(ValFraction), ValFraction, "val fraction must be in [0, 1)");
        if (!(MaskDownsample > 0)) throw new ArgumentOutOfRangeException(nameof(MaskDownsample), MaskDownsample, "mask downsample must be positive");
        if (SlideMpp is { } m && !(m > 0)) throw new ArgumentOutOfRangeException(nameof(SlideMpp), m, "slide MPP must be positive");
        if (ClassNames.Count is 0 or > 255) throw new ArgumentOutOfRangeException(nameof(ClassNames), "1..255 class names needed (255 marks unlabelled pixels)");
        if (IgnoreValue is { } iv && iv is < 0 or > 255) throw new ArgumentOutOfRangeException(nameof(IgnoreValue), iv, "ignore value must be 0..255");
    }
}

/// <summary>What GeoJSON pixels that no annotation covers are.</summary>
public enum UnannotatedPixels
{
    Ignore,
    Background,
}

/// <summary>A slide and its annotation: a label mask (TIFF/PNG) or a GeoJSON file (.geojson/.json).</summary>
public sealed record AnnotatedSlide(string Slide, string Annotation)
{
    public bool IsGeoJson => Annotation.EndsWith(".geojson", StringComparison.OrdinalIgnoreCase)
        || Annotation.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
}

/// <summary>What an extraction produced.</summary>
public sealed record ExtractSummary(int Slides, int TrainPatches, int ValPatches, int SkippedBackground,
    IReadOnlyList<string> TrainSlides, IReadOnlyList<string> ValSlides, long[] ClassPixels)
{
    public int TestPatches { get; init; }
    public IReadOnlyList<string> TestSlides { get; init; } = [];

    /// <summary>Patches left out because not one of their pixels is labelled.</summary>
    public int SkippedUnlabelled { get; init; }

    /// <summary>Pixels of the written patches that are unlabelled.</summary>
    public long IgnoredPixels { get; init; }
}

/// <summary>
/// Cuts overlapping patches at a target MPP from annotated slides or plain images into a dataset folder:
/// <c>images/NAME.png</c> (RGB), <c>labels/NAME.png</c> (uint8 class ids, 255 = unlabelled) and <c>index.csv</c>
/// (with the patches' MPP). An image smaller than a patch is padded (white pixels, unlabelled). Patches without one
/// labelled pixel are not written. Slides, not patches, are split into train, val (and test, from a split file):
/// no slide in two. Output depends only on the inputs and seed.
/// </summary>
public sealed class PatchExtractor(ExtractOptions options, ILogger logger)
{
    public ExtractSummary Run(IReadOnlyList<AnnotatedSlide> slides, string outDir, CancellationToken ct = default)
    {
        options.Validate();
        VipsSetup.EnsureInitialised();
        if (slides.Count == 0) throw new ArgumentException("no slides to extract from", nameof(slides));
        var ordered = slides.OrderBy(s => Path.GetFullPath(s.Slide), StringComparer.Ordinal).ToList();
        var stems = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in ordered)
            if (!stems.Add(Stem(s.Slide)))
                throw new LabelFileException(s.Slide, $"another slide has the same name '{Stem(s.Slide)}'; patch names would collide");
        var splits = ordered.ToDictionary(s => s.Slide, s => "train", StringComparer.Ordinal);
        if (options.Split is { } file)
            foreach (var s in ordered) splits[s.Slide] = file.SplitOf(s.Slide);
        else
            foreach (var v in SplitBySlide(ordered.Select(s => s.Slide).ToList())) splits[v] = "val";
        if (ordered.Count == 1 && options.Split is null)
            logger.LogWarning("Only one slide ({Slide}): it goes to train and there is no validation split", ordered[0].Slide);

        string images = Path.Combine(outDir, "images"), labels = Path.Combine(outDir, "labels");
        Directory.CreateDirectory(images);
        Directory.CreateDirectory(labels);
        var csv = new StringBuilder();
        csv.Append("image,label,slide,x,y,level,downsample,split");
        for (int c = 0; c < options.ClassNames.Count; c++) csv.Append(",c").Append(c.ToString(CultureInfo.InvariantCulture));
        csv.Append(",ignored,mpp\n");
        var kept = new Dictionary<string, int> { ["train"] = 0, ["val"] = 0, ["test"] = 0 };
        int skipped = 0, unlabelled = 0;
        var classPixels = new long[options.ClassNames.Count + 1]; // the last: unlabelled pixels
        foreach (var s in ordered)
        {
            ct.ThrowIfCancellationRequested();
            var counts = ExtractSlide(s, splits[s.Slide], images, labels, csv, classPixels, ct);
            kept[splits[s.Slide]] += counts.Kept;
            skipped += counts.Background;
            unlabelled += counts.Unlabelled;
        }
        string index = Path.Combine(outDir, "index.csv");
        File.WriteAllText(index + ".partial", csv.ToString());
        File.Move(index + ".partial", index, overwrite: true);
        // The class names and resolution travel with the patches, so `train` puts them in the model card unasked.
        string meta = Path.Combine(outDir, "dataset.json");
        File.WriteAllText(meta, System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["mpp"] = options.TargetMpp, ["patch_size"] = options.PatchSize, ["classes"] = options.ClassNames, ["unlabelled_value"] = (int)LabelValues.Ignore,
        }, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        List<string> Of(string split) => ordered.Where(s => splits[s.Slide] == split).Select(s => s.Slide).ToList();
        return new ExtractSummary(ordered.Count, kept["train"], kept["val"], skipped, Of("train"), Of("val"), classPixels[..^1])
        {
            TestPatches = kept["test"],
            TestSlides = Of("test"),
            SkippedUnlabelled = unlabelled,
            IgnoredPixels = classPixels[^1],
        };
    }

    /// <summary>The slides that go to validation: a seeded shuffle of the sorted list, at least one when there are two or more.</summary>
    public HashSet<string> SplitBySlide(IReadOnlyList<string> sortedSlides)
    {
        int n = sortedSlides.Count;
        int nVal = n < 2 || options.ValFraction <= 0 ? 0 : Math.Clamp((int)Math.Round(n * options.ValFraction), 1, n - 1);
        var order = sortedSlides.ToArray();
        new Random(options.Seed).Shuffle(order);
        return order.Take(nVal).ToHashSet(StringComparer.Ordinal);
    }

    private (int Kept, int Background, int Unlabelled) ExtractSlide(AnnotatedSlide s, string split, string imagesDir, string labelsDir,
        StringBuilder csv, long[] classPixels, CancellationToken ct)
    {
        using var slide = SlideSource.Open(s.Slide);
        double mpp = slide.MppX ?? options.SlideMpp
            ?? throw new LabelFileException(s.Slide, "records no resolution (MPP); pass --slide-mpp");
        double targetDs = options.TargetMpp / mpp;
        var level0 = slide.Levels[0];
        int tw = Math.Max(1, (int)Math.Round(level0.Width / targetDs));
        int th = Math.Max(1, (int)Math.Round(level0.Height / targetDs));
        // The coarsest level that is still at least as fine as the target, then resampled to the target grid.
        var level = slide.Levels.Where(l => l.Downsample <= targetDs * 1.0001).MaxBy(l => l.Downsample) ?? level0;
        using var chain = new VipsChain();
        var rgb = slide.Level(level.Index);
        double scale = level.Downsample / targetDs;
        if (Math.Abs(scale - 1) > 1e-6) rgb = chain.Add(rgb.Resize(scale, kernel: Enums.Kernel.Lanczos3));
        int pw = Math.Max(tw, options.PatchSize), ph = Math.Max(th, options.PatchSize);
        rgb = chain.Add(rgb.Embed(0, 0, pw, ph, extend: Enums.Extend.White));
        // Beyond the image nothing is labelled.
        var labelImage = chain.Add(chain.Add(LabelsOnGrid(s, level0.Width, level0.Height, targetDs, tw, th))
            .Embed(0, 0, pw, ph, extend: Enums.Extend.Background, background: [LabelValues.Ignore]));
        logger.LogInformation("{Slide}: level {Level} (downsample {Ds:0.###}) resampled to {W}x{H} at {Mpp} µm/px, {Split}",
            s.Slide, level.Index, level.Downsample, tw, th, options.TargetMpp, split);

        int p = options.PatchSize, stride = p - options.Overlap;
        var xs = Positions(pw, p, stride);
        var ys = Positions(ph, p, stride);
        var lab = new byte[p * p];
        var hist = new long[options.ClassNames.Count];
        int kept = 0, skipped = 0, unlabelled = 0;
        int maskIgnore = s.IsGeoJson ? -1 : options.IgnoreValue ?? -1;
        var lut = s.IsGeoJson ? null : MaskValueMap(s.Annotation);
        string stem = Stem(s.Slide);
        foreach (int y in ys)
        {
            foreach (int x in xs)
            {
                ct.ThrowIfCancellationRequested();
                LabelImage.Read(s.Annotation, labelImage, x, y, p, p, lab);
                Array.Clear(hist);
                long ignored = 0;
                for (int i = 0; i < lab.Length; i++)
                {
                    byte v = lab[i];
                    if (v == maskIgnore) lab[i] = v = LabelValues.Ignore;
                    else if (lut is not null) lab[i] = v = lut[v];
                    if (v == LabelValues.Ignore) { ignored++; continue; }
                    if (v >= hist.Length)
                        throw new LabelFileException(s.Annotation, $"label value {v} near ({x}, {y}) at {options.TargetMpp} µm/px is not a class (there are {hist.Length}; 255 or --ignore-value mark unlabelled pixels)");
                    hist[v]++;
                }
                if (ignored == lab.Length)
                {
                    unlabelled++;
                    continue;
                }
                if (hist[0] == lab.Length - ignored && !KeepBackgroundPatch(stem, x, y))
                {
                    skipped++;
                    continue;
                }
                string name = $"{stem}_{x:D6}_{y:D6}.png";
                using (var patch = rgb.Crop(x, y, p, p))
                    Save(patch, Path.Combine(imagesDir, name));
                using (var labelPatch = Image.NewFromMemory(lab, p, p, 1, Enums.BandFormat.Uchar))
                    Save(labelPatch, Path.Combine(labelsDir, name));
                var c = CultureInfo.InvariantCulture;
                csv.Append(c, $"images/{name},labels/{name},{Csv(s.Slide)},{Math.Round(x * targetDs).ToString(c)},{Math.Round(y * targetDs).ToString(c)},{level.Index},{targetDs.ToString("0.######", c)},{split}");
                for (int k = 0; k < hist.Length; k++)
                {
                    csv.Append(',').Append(hist[k].ToString(c));
                    classPixels[k] += hist[k];
                }
                csv.Append(',').Append(ignored.ToString(c)).Append(',').Append(options.TargetMpp.ToString("0.######", c)).Append('\n');
                classPixels[^1] += ignored;
                kept++;
            }
        }
        logger.LogInformation("{Slide}: {Kept} patches, {Skipped} background-only and {Unlabelled} unlabelled skipped", s.Slide, kept, skipped, unlabelled);
        return (kept, skipped, unlabelled);
    }

    /// <summary>For masks, <c>--class-map</c> maps values: "4=2" merges class 4 into 2, "7=ignore" makes 7 unlabelled.</summary>
    private byte[]? MaskValueMap(string annotation)
    {
        if (options.ClassMap.Count == 0) return null;
        var lut = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        foreach (var (from, to) in options.ClassMap)
        {
            if (!byte.TryParse(from, NumberStyles.None, CultureInfo.InvariantCulture, out byte f))
                throw new LabelFileException(annotation, $"--class-map '{from}={to}': a mask maps label values (e.g. 4=2 or 7=ignore)");
            lut[f] = GeoJsonAnnotations.IsIgnoreName(to) ? LabelValues.Ignore
                : byte.TryParse(to, NumberStyles.None, CultureInfo.InvariantCulture, out byte t) ? t
                : throw new LabelFileException(annotation, $"--class-map '{from}={to}': map a mask value to a value or 'ignore'");
        }
        return lut;
    }

    /// <summary>The annotation as a lazy uchar label image on the target grid (tw × th).</summary>
    private Image LabelsOnGrid(AnnotatedSlide s, int w0, int h0, double targetDs, int tw, int th)
    {
        if (s.IsGeoJson)
        {
            var content = GeoJsonAnnotations.Load(s.Annotation, new GeoJsonReadOptions
            {
                ClassNames = options.ClassNames, ClassMap = options.ClassMap, IncludeDetections = options.IncludeDetections,
            });
            if (content.SkippedUnclassified + content.SkippedNotPolygon + content.SkippedDetections > 0)
                logger.LogWarning("{File}: skipped {Unclassified} unclassified, {Other} non-polygon features and {Detections} detections (--include-detections)",
                    s.Annotation, content.SkippedUnclassified, content.SkippedNotPolygon, content.SkippedDetections);
            foreach (var (name, count) in content.UnknownClasses)
                logger.LogWarning("{File}: skipped {Count} features of class '{Class}', which is not in the class names (map it with --class-map '{Class}=NAME')",
                    s.Annotation, count, name, name);
            var buffer = new byte[(long)tw * th];
            if (options.Unannotated == UnannotatedPixels.Ignore) Array.Fill(buffer, LabelValues.Ignore);
            PolygonRasterizer.Fill(buffer, tw, th, content.Polygons, targetDs);
            return Image.NewFromMemory(buffer, tw, th, 1, Enums.BandFormat.Uchar);
        }
        using var first = LabelImage.Open(s.Annotation);
        double expectW = w0 / options.MaskDownsample, expectH = h0 / options.MaskDownsample;
        if (Math.Abs(first.Width - expectW) > Math.Max(2, 0.01 * expectW) || Math.Abs(first.Height - expectH) > Math.Max(2, 0.01 * expectH))
            throw new LabelFileException(s.Annotation,
                $"is {first.Width}x{first.Height}, but the slide {s.Slide} ({w0}x{h0}) at mask downsample {options.MaskDownsample} needs about {expectW:0}x{expectH:0}");
        // The coarsest mask level (mode-shrunk pyramid page) still at least as fine as the target grid.
        int best = 0;
        for (int i = 1; i < first.Levels.Count; i++)
            if (options.MaskDownsample * first.Width / (double)first.Levels[i].Width <= targetDs * 1.0001) best = i;
        using var mask = best == 0 ? null : LabelImage.Open(s.Annotation, best);
        var source = mask ?? first;
        double maskDs = options.MaskDownsample * first.Width / (double)source.Width;
        return LabelImage.ResampleNearest(source.Image, tw, th, targetDs / maskDs, targetDs / maskDs);
    }

    private bool KeepBackgroundPatch(string stem, int x, int y)
    {
        if (options.KeepBackground <= 0) return false;
        if (options.KeepBackground >= 1) return true;
        ulong h = 1469598103934665603UL;
        foreach (char ch in $"{options.Seed}/{stem}/{x}/{y}") h = unchecked((h ^ ch) * 1099511628211UL);
        return (h >> 11) * (1.0 / (1UL << 53)) < options.KeepBackground;
    }

    private static List<int> Positions(int size, int patch, int stride)
    {
        var list = new List<int>();
        for (int x = 0; x + patch <= size; x += stride) list.Add(x);
        if (list[^1] + patch < size) list.Add(size - patch);
        return list;
    }

    private static void Save(Image image, string path)
    {
        string temp = path + ".partial";
        image.Pngsave(temp, compression: 6);
        File.Move(temp, path, overwrite: true);
    }

    private static string Stem(string slide)
    {
        string name = Path.GetFileName(slide);
        foreach (var ext in new[] { ".ome.tiff", ".ome.tif", ".tiff", ".tif", ".svs", ".ndpi", ".mrxs", ".scn", ".bif", ".png", ".jpg", ".jpeg" })
            if (name.EndsWith(ext, StringComparison.OrdinalIgnoreCase)) return name[..^ext.Length];
        return Path.GetFileNameWithoutExtension(name);
    }

    private static string Csv(string s) => s.Contains(',') || s.Contains('"') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
