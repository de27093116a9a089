using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using WsiSegment.Model.Metrics;
using WsiSegment.Processor.Cli;
using WsiSegment.Tiling.Labels;
using WsiSegment.Tiling.Training;

namespace WsiSegment.Processor.Commands;

/// <summary>
/// `wsi-segment eval`: confusion matrix, per-class IoU and Dice, mIoU and pixel accuracy of predicted label masks
/// against ground truth — whole slides (two label TIFFs, read strip by strip) or a patch dataset (two PNG folders).
/// </summary>
public static class EvalCommand
{
    private const int StripRows = 256;

    public static Command Create()
    {
        var pred = new Option<string?>("--pred") { Description = "Predicted label mask (TIFF/PNG, uint8 class ids) of one slide." };
        var truth = new Option<string?>("--truth") { Description = "Ground-truth label mask of the same slide." };
        var level = new Option<int>("--level") { Description = "Pyramid level (page) of both masks to compare.", DefaultValueFactory = _ => 0 };
        var resample = new Option<bool>("--resample") { Description = "Resample the truth by nearest neighbour to the prediction's size when they differ." };
        var predDir = new Option<string?>("--pred-dir") { Description = "Folder of predicted label PNGs (dataset mode)." };
        var truthDir = new Option<string?>("--truth-dir") { Description = "Folder of ground-truth label PNGs with the same names." };
        var names = new Option<string?>("--names") { Description = "Class names file, one a line (default: the 8 tissue classes)." };
        var ignore = new Option<int?>("--ignore")
        {
            Description = "Truth label value left out of every count: unlabelled pixels (255, as extract writes them, by default; -1 counts every pixel).",
            DefaultValueFactory = _ => LabelValues.Ignore,
        };
        var perImage = new Option<bool>("--per-image") { Description = "Dataset mode: also score each image on its own (table rows, and \"images\" in --json)." };
        var json = new Option<string?>("--json") { Description = "Write the scores and confusion matrix to this JSON file." };
        var cmd = new Command("eval", "Score predicted label masks against ground truth: IoU, mIoU, Dice, pixel accuracy.")
        {
            pred, truth, level, resample, predDir, truthDir, names, ignore, perImage, json,
        };
        cmd.SetAction((parse, ct) => CommandRunner.RunAsync(parse, "eval", ct, async (logs, token) =>
        {
            var log = logs.CreateLogger("wsi-segment.eval");
            var classNames = ClassNames.Load(parse.GetValue(names));
            int? ignoreValue = parse.GetValue(ignore) is { } iv && iv >= 0 ? iv : null;
            var matrix = new ConfusionMatrix(classNames.Count, ignoreValue);
            var images = parse.GetValue(perImage) ? new List<ImageScores>() : null;
            bool slideMode = parse.GetValue(pred) is not null || parse.GetValue(truth) is not null;
            bool dirMode = parse.GetValue(predDir) is not null || parse.GetValue(truthDir) is not null;
            if (slideMode == dirMode)
                throw new UserError("give either --pred and --truth (whole slide) or --pred-dir and --truth-dir (dataset)");
            string what;
            if (slideMode)
            {
                string p = parse.GetValue(pred) ?? throw new UserError("--truth needs --pred");
                string t = parse.GetValue(truth) ?? throw new UserError("--pred needs --truth");
                EvaluateSlide(p, t, parse.GetValue(level), parse.GetValue(resample), matrix, log, token);
                what = $"{p} vs {t}";
            }
            else
            {
                string p = parse.GetValue(predDir) ?? throw new UserError("--truth-dir needs --pred-dir");
                string t = parse.GetValue(truthDir) ?? throw new UserError("--pred-dir needs --truth-dir");
                int n = EvaluateDataset(p, t, matrix, images, classNames, log, token);
                what = $"{n} images in {p} vs {t}";
            }
            var scores = matrix.Score(classNames);
            if (images is not null) PrintImages(images, classNames);
            Print(what, scores);
            if (parse.GetValue(json) is { } jsonPath)
            {
                object document = images is null ? scores : new { scores.MeanIoU, scores.MeanDice, scores.PixelAccuracy, scores.Pixels, scores.Classes, scores.Confusion, Images = images };
                await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(document, JsonOutput.Options), token);
                log.LogInformation("Wrote {Json}", jsonPath);
            }
            return CommandRunner.Ok;
        }));
        return cmd;
    }

    private static void EvaluateSlide(string predPath, string truthPath, int level, bool resample, ConfusionMatrix matrix, ILogger log, CancellationToken ct)
    {
        using var pred = LabelImage.Open(predPath, level);
        using var truth = LabelImage.Open(truthPath, level);
        using var truthImage = (pred.Width, pred.Height) == (truth.Width, truth.Height) ? truth.Image.Copy()
            : resample ? truth.ResampledNearest(pred.Width, pred.Height)
            : throw new UserError($"{predPath} is {pred.Width}x{pred.Height} but {truthPath} is {truth.Width}x{truth.Height} (level {level}); pass --resample to resample the truth to the prediction by nearest neighbour");
        if (resample && (pred.Width, pred.Height) != (truth.Width, truth.Height))
            log.LogInformation("Resampling {Truth} from {W}x{H} to {PW}x{PH} (nearest)", truthPath, truth.Width, truth.Height, pred.Width, pred.Height);
        int w = pred.Width;
        var p = new byte[(long)w * StripRows];
        var t = new byte[(long)w * StripRows];
        for (int y = 0; y < pred.Height; y += StripRows)
        {
            ct.ThrowIfCancellationRequested();
            int rows = Math.Min(StripRows, pred.Height - y);
            int n = w * rows;
            pred.ReadRows(y, rows, p);
            LabelImage.ReadRows(truthPath, truthImage, y, rows, t);
            Add(matrix, p.AsSpan(0, n), t.AsSpan(0, n), predPath, truthPath, w, y);
        }
    }

    /// <summary>One image's scores (eval --per-image).</summary>
    private sealed record ImageScores(string Image, double? MeanIoU, double? MeanDice, double? PixelAccuracy, long Pixels, IReadOnlyList<ClassScore> Classes);

    private static int EvaluateDataset(string predDir, string truthDir, ConfusionMatrix matrix, List<ImageScores>? images,
        IReadOnlyList<string> names, ILogger log, CancellationToken ct)
    {
        if (!Directory.Exists(truthDir)) throw new UserError($"{truthDir}: no such folder");
        if (!Directory.Exists(predDir)) throw new UserError($"{predDir}: no such folder");
        var truths = Directory.GetFiles(truthDir, "*.png").Order(StringComparer.Ordinal).ToList();
        if (truths.Count == 0) throw new UserError($"{truthDir}: no label PNGs to evaluate");
        foreach (var truthPath in truths)
        {
            ct.ThrowIfCancellationRequested();
            string predPath = Path.Combine(predDir, Path.GetFileName(truthPath));
            if (!File.Exists(predPath)) throw new UserError($"{predPath}: missing prediction for {truthPath}");
            using var pred = LabelImage.Open(predPath);
            using var truth = LabelImage.Open(truthPath);
            if ((pred.Width, pred.Height) != (truth.Width, truth.Height))
                throw new UserError($"{predPath} is {pred.Width}x{pred.Height} but {truthPath} is {truth.Width}x{truth.Height}");
            var p = new byte[pred.Width * pred.Height];
            var t = new byte[p.Length];
            pred.ReadRows(0, pred.Height, p);
            truth.ReadRows(0, truth.Height, t);
            Add(matrix, p, t, predPath, truthPath, pred.Width, 0);
            if (images is not null)
            {
                var one = new ConfusionMatrix(matrix.Classes, matrix.IgnoreValue);
                one.Add(p, t);
                var s = one.Score(names);
                images.Add(new ImageScores(Path.GetFileName(truthPath), s.MeanIoU, s.MeanDice, s.PixelAccuracy, s.Pixels, s.Classes));
            }
        }
        int extra = Directory.GetFiles(predDir, "*.png").Length - truths.Count;
        if (extra > 0) log.LogWarning("{Count} predictions in {Dir} have no ground truth and were not scored", extra, predDir);
        return truths.Count;
    }

    private static void Add(ConfusionMatrix matrix, ReadOnlySpan<byte> p, ReadOnlySpan<byte> t, string predPath, string truthPath, int width, int y0)
    {
        try
        {
            matrix.Add(p, t);
        }
        catch (InvalidLabelException e)
        {
            string file = e.Side == "truth" ? truthPath : predPath;
            long x = e.PixelIndex % width, y = y0 + e.PixelIndex / width;
            throw new UserError($"{file}: label value {e.Value} at pixel ({x}, {y}) is not a class (there are {matrix.Classes} classes, 0..{matrix.Classes - 1}; use --names for more)");
        }
    }

    /// <summary>Redirected output (a file, a pipe, a test) has no terminal width: Spectre would wrap the table at 80.</summary>
    private static void WidenWhenRedirected()
    {
        if (Console.IsOutputRedirected && AnsiConsole.Profile.Width < 200) AnsiConsole.Profile.Width = 200;
    }

    private static void PrintImages(List<ImageScores> images, IReadOnlyList<string> names)
    {
        WidenWhenRedirected();
        var c = CultureInfo.InvariantCulture;
        string F(double? v) => v is { } d ? d.ToString("0.0000", c) : "-";
        var table = new Table().AddColumns(["image", "pixels", "mIoU", .. names.Select(n => "IoU " + Markup.Escape(n))]);
        foreach (var i in images)
            table.AddRow([Markup.Escape(i.Image), i.Pixels.ToString("N0", c), F(i.MeanIoU), .. i.Classes.Select(k => F(k.IoU))]);
        AnsiConsole.Write(table);
    }

    private static void Print(string what, SegmentationScores s)
    {
        WidenWhenRedirected();
        var c = CultureInfo.InvariantCulture;
        string F(double? v) => v is { } d ? d.ToString("0.0000", c) : "-";
        AnsiConsole.MarkupLine($"[bold]eval[/] {Markup.Escape(what)}");
        var table = new Table().AddColumns("id", "class", "truth px", "predicted px", "IoU", "Dice", "precision", "recall");
        foreach (var k in s.Classes)
            table.AddRow(k.Id.ToString(c), Markup.Escape(k.Name), k.TruthPixels.ToString("N0", c), k.PredictedPixels.ToString("N0", c), F(k.IoU), F(k.Dice), F(k.Precision), F(k.Recall));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("mIoU: mean over the classes present in the truth or the prediction; unlabelled truth pixels are not counted");
        AnsiConsole.MarkupLine($"mIoU {F(s.MeanIoU)}   pixel accuracy {F(s.PixelAccuracy)}   mean Dice {F(s.MeanDice)}   pixels {s.Pixels.ToString("N0", c)}");
    }
}
