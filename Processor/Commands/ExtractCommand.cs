using System.CommandLine;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using WsiSegment.Processor.Cli;
using WsiSegment.Tiling.Training;

namespace WsiSegment.Processor.Commands;

/// <summary>`wsi-segment extract OUTDIR SLIDE…`: a patch dataset (images/, labels/, index.csv) from annotated slides.</summary>
public static class ExtractCommand
{
    public static Command Create()
    {
        var outDir = new Argument<string>("outdir") { Description = "Dataset folder to create (images/, labels/, index.csv)." };
        var slides = new Argument<string[]>("slides") { Description = "Slide files or plain images (PNG/TIFF/JPEG tiles of any size).", Arity = ArgumentArity.OneOrMore };
        var annotations = new Option<string[]>("--annotations", "-a")
        {
            Description = "One annotation per slide, in the same order: a label mask (TIFF/PNG) or QuPath GeoJSON (.geojson/.json). "
                + "Default: SLIDE-STEM.labels.tif, else SLIDE-STEM.geojson, beside each slide.",
            AllowMultipleArgumentsPerToken = true,
        };
        var maskDs = new Option<double>("--mask-downsample") { Description = "Slide level-0 pixels per mask pixel.", DefaultValueFactory = _ => 1.0 };
        var names = new Option<string?>("--names") { Description = "Class names file, one a line; line n is class id n (default: the 8 tissue classes)." };
        var patch = new Option<int>("--patch") { Description = "Patch size in pixels.", DefaultValueFactory = _ => 384 };
        var overlap = new Option<int>("--overlap") { Description = "Overlap between neighbouring patches in pixels.", DefaultValueFactory = _ => 64 };
        var mpp = new Option<double>("--mpp") { Description = "Microns per pixel of the patches.", DefaultValueFactory = _ => 2.0 };
        var slideMpp = new Option<double?>("--slide-mpp") { Description = "MPP to assume for slides and images that record none (e.g. PNG/JPEG tiles)." };
        var unannotated = new Option<string>("--unannotated")
        {
            Description = "GeoJSON pixels that no annotation covers: ignore (unlabelled: no loss, no metric) or background (class 0).",
            DefaultValueFactory = _ => "ignore",
        };
        var ignoreValue = new Option<int?>("--ignore-value") { Description = "Mask value meaning unlabelled (255 always does), e.g. 0 for masks whose 0 means 'not annotated'." };
        var classMap = new Option<string[]>("--class-map")
        {
            Description = "GeoJSON: rename a class before the names lookup, OLD=NEW (NEW a class name or 'ignore'). Masks: map a label value, e.g. 4=2 or 7=ignore. Repeatable.",
            AllowMultipleArgumentsPerToken = true,
        };
        var detections = new Option<bool>("--include-detections") { Description = "Rasterise GeoJSON detections and cells too (default: annotations only)." };
        var split = new Option<string?>("--split") { Description = "Split file: source image -> train, val or test (TSV/CSV, e.g. name<TAB>split); replaces --val-fraction." };
        var keep = new Option<double>("--keep-background") { Description = "Fraction of background-only patches to keep.", DefaultValueFactory = _ => 0.1 };
        var valFraction = new Option<double>("--val-fraction") { Description = "Fraction of slides (not patches) for validation.", DefaultValueFactory = _ => 0.2 };
        var seed = new Option<int>("--seed") { Description = "Seed of the train/val split and of the background sampling.", DefaultValueFactory = _ => 0 };
        var cmd = new Command("extract", "Cut overlapping training patches at a target MPP from slides and their label masks or GeoJSON annotations.")
        {
            outDir, slides, annotations, maskDs, names, patch, overlap, mpp, slideMpp, keep, valFraction, seed,
            unannotated, ignoreValue, classMap, detections, split,
        };
        cmd.SetAction((parse, ct) => CommandRunner.RunAsync(parse, "extract", ct, (logs, token) =>
        {
            var log = logs.CreateLogger("wsi-segment.extract");
            var slidePaths = parse.GetValue(slides)!;
            var annotationPaths = parse.GetValue(annotations) ?? [];
            if (annotationPaths.Length > 0 && annotationPaths.Length != slidePaths.Length)
                throw new UserError($"{slidePaths.Length} slides but {annotationPaths.Length} annotations: give one annotation per slide, in the same order");
            var pairs = slidePaths.Select((s, i) => new AnnotatedSlide(s, annotationPaths.Length > 0 ? annotationPaths[i] : FindAnnotation(s))).ToList();
            foreach (var p in pairs)
                if (!File.Exists(p.Annotation)) throw new UserError($"{p.Annotation}: annotation not found (for slide {p.Slide})");
            var options = new ExtractOptions
            {
                PatchSize = parse.GetValue(patch),
                Overlap = parse.GetValue(overlap),
                TargetMpp = parse.GetValue(mpp),
                KeepBackground = parse.GetValue(keep),
                ValFraction = parse.GetValue(valFraction),
                Seed = parse.GetValue(seed),
                MaskDownsample = parse.GetValue(maskDs),
                SlideMpp = parse.GetValue(slideMpp),
                ClassNames = ClassNames.Load(parse.GetValue(names)),
                Unannotated = parse.GetValue(unannotated)!.Trim().ToLowerInvariant() switch
                {
                    "ignore" => UnannotatedPixels.Ignore,
                    "background" => UnannotatedPixels.Background,
                    var other => throw new UserError($"--unannotated '{other}': use ignore or background"),
                },
                IgnoreValue = parse.GetValue(ignoreValue),
                ClassMap = ParseClassMap(parse.GetValue(classMap) ?? []),
                IncludeDetections = parse.GetValue(detections),
                Split = parse.GetValue(split) is { } splitPath ? SplitFile.Load(splitPath) : null,
            };
            try { options.Validate(); }
            catch (ArgumentOutOfRangeException e) { throw new UserError(e.Message.Split(" (Parameter", 2)[0]); }
            var watch = Stopwatch.StartNew();
            var summary = new PatchExtractor(options, log).Run(pairs, parse.GetValue(outDir)!, token);
            if (summary.TrainPatches + summary.ValPatches + summary.TestPatches == 0)
                throw new UserError($"no patch has a labelled pixel ({summary.SkippedUnlabelled} unlabelled, {summary.SkippedBackground} background-only skipped): "
                    + "check the class names (--names, --class-map) and --unannotated; warnings above list the skipped classes");
            log.LogInformation("Extracted {Train} train and {Val} val patches from {Slides} slides ({Skipped} background-only skipped) in {Seconds:0.0}s",
                summary.TrainPatches, summary.ValPatches, summary.Slides, summary.SkippedBackground, watch.Elapsed.TotalSeconds);
            Console.Out.WriteLine($"train: {summary.TrainPatches} patches from {string.Join(", ", summary.TrainSlides)}");
            Console.Out.WriteLine($"val: {summary.ValPatches} patches from {(summary.ValSlides.Count > 0 ? string.Join(", ", summary.ValSlides) : "(no slide)")}");
            if (summary.TestSlides.Count > 0) Console.Out.WriteLine($"test: {summary.TestPatches} patches from {string.Join(", ", summary.TestSlides)}");
            long labelled = summary.ClassPixels.Sum();
            Console.Out.WriteLine(System.FormattableString.Invariant(
                $"pixels: {labelled:N0} labelled, {summary.IgnoredPixels:N0} unlabelled ({100.0 * summary.IgnoredPixels / Math.Max(1, labelled + summary.IgnoredPixels):0.0}%); {summary.SkippedUnlabelled} patches without a labelled pixel not written"));
            return Task.FromResult(CommandRunner.Ok);
        }));
        return cmd;
    }

    private static Dictionary<string, string> ParseClassMap(string[] pairs)
    {
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in pairs)
        {
            int eq = pair.IndexOf('=');
            if (eq <= 0 || eq == pair.Length - 1) throw new UserError($"--class-map '{pair}': use OLD=NEW");
            map[pair[..eq].Trim()] = pair[(eq + 1)..].Trim();
        }
        return map;
    }

    private static string FindAnnotation(string slide)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(slide))!;
        string stem = Path.GetFileNameWithoutExtension(slide);
        foreach (var candidate in new[] { stem + ".labels.tif", stem + ".geojson", stem + ".json" })
        {
            string path = Path.Combine(dir, candidate);
            if (File.Exists(path)) return path;
        }
        throw new UserError($"{slide}: no annotation given and none found beside it ({stem}.labels.tif or {stem}.geojson); use --annotations");
    }
}
