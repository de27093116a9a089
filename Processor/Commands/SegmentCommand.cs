using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Segmentation;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Processor.Commands;

/// <summary>`wsi-segment segment SLIDE… [-o OUTDIR] [--model CKPT]`: whole-slide segmentation into pyramidal masks and reports.</summary>
public static class SegmentCommand
{
    public static Command Create()
    {
        var slides = new Argument<string[]>("slides") { Description = "Slide files to segment.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--output", "-o") { Description = "Output folder (created if missing).", DefaultValueFactory = _ => "." };
        var options = new SegmentOptionSet();
        var cmd = new Command("segment", "Segment whole slides into tissue classes: pyramidal TIFF masks, colour overlay, GeoJSON, report.") { slides, output };
        options.AddTo(cmd);
        cmd.SetAction((parse, ct) => CommandRunner.RunAsync(parse, "segment", ct, async (logs, token) =>
        {
            var log = logs.CreateLogger("wsi-segment.segment");
            var segmentOptions = options.Read(parse);
            string outDir = parse.GetValue(output)!;
            using var segmenter = SlideSegmenter.Create(segmentOptions, logs);
            var progressUi = new ConsoleProgress(log, parse.GetValue(GlobalOptions.Quiet));
            var reports = new List<SegmentReport>();
            int failed = 0;
            foreach (var slide in parse.GetValue(slides)!)
            {
                token.ThrowIfCancellationRequested();
                try
                {
                    var report = await progressUi.RunAsync(slide, p => segmenter.SegmentAsync(slide, outDir, p, token));
                    reports.Add(report);
                    PrintAreas(slide, report, outDir);
                }
                catch (Exception e) when (token.IsCancellationRequested && e is not OperationCanceledException)
                {
                    // A decoder or writer interrupted by the cancellation fails in its own way: still just "cancelled".
                    throw new OperationCanceledException("cancelled", e, token);
                }
                catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
                {
                    failed++;
                    Console.Error.WriteLine($"error: {CommandRunner.Describe(e)}");
                    log.LogDebug(e, "segment failed for {Slide}", slide);
                }
            }
            return failed == 0 ? CommandRunner.Ok : CommandRunner.Failed;
        }));
        return cmd;
    }

    private static void PrintAreas(string slide, SegmentReport r, string outDir)
    {
        var c = CultureInfo.InvariantCulture;
        var table = new Table().Title(Markup.Escape($"{Path.GetFileName(slide)} → {Path.GetFullPath(outDir)}"))
            .AddColumns("class", "pixels", "area (mm²)", "share");
        foreach (var k in r.Classes)
            table.AddRow(Markup.Escape(k.Name), k.Pixels.ToString("N0", c), k.AreaMm2?.ToString("0.0000", c) ?? "-", k.Fraction.ToString("P1", c));
        table.Caption(Markup.Escape(string.Create(c,
            $"{r.Analysis.Width}x{r.Analysis.Height} px at {r.Analysis.Mpp:0.###} µm/px; {r.Patches.Run}/{r.Patches.Total} patches run; {r.TotalSeconds:0.0} s; peak RSS {r.PeakRssBytes >> 20} MB")));
        AnsiConsole.Write(table);
    }
}

/// <summary>The analysis options shared by `segment`, `watch` and `bench pipeline`.</summary>
public sealed class SegmentOptionSet
{
    public readonly Option<string?> Model = new("--model", "-m") { Description = "Model checkpoint (.safetensors). Default: the bundled demo model." };
    public readonly Option<double?> Mpp = new("--mpp") { Description = "Analysis resolution in µm/px. Default: the model card's." };
    public readonly Option<double?> AssumeMpp = new("--assume-mpp") { Description = "MPP of level 0 for slides that record none." };
    public readonly Option<int?> Level = new("--level") { Description = "Analyse this pyramid level (no MPP needed)." };
    public readonly Option<int> Tile = new("--tile") { Description = "Inference tile size in analysis pixels (multiple of 8).", DefaultValueFactory = _ => 1024 };
    public readonly Option<int> Overlap = new("--overlap") { Description = "Overlap between neighbouring tiles in pixels.", DefaultValueFactory = _ => 128 };
    public readonly Option<int> Batch = new("--batch") { Description = "Tiles per forward pass (1024² tiles run as fast one at a time, with less memory).", DefaultValueFactory = _ => 1 };
    public readonly Option<BlendChoice> Blend = new("--blend") { Description = "How overlapping predictions are merged: gaussian, cosine, average, crop.", DefaultValueFactory = _ => BlendChoice.Gaussian };
    public readonly Option<bool> NoTissueMask = new("--no-tissue-mask") { Description = "Run every tile, not only those with tissue." };
    public readonly Option<double> MinTissue = new("--min-tissue") { Description = "Minimum tissue fraction for a tile to run.", DefaultValueFactory = _ => 0.02 };
    public readonly Option<string> Device = new("--device") { Description = "auto, cpu, cuda or cuda:N.", DefaultValueFactory = _ => "auto" };
    public readonly Option<string> Precision = new("--precision") { Description = "fp32 (default), bf16, auto (bf16 where the first batch shows it faster than fp32 and giving the same labels), or fp16 (CUDA only).", DefaultValueFactory = _ => "fp32" };
    public readonly Option<int> Threads = new("--threads") { Description = "CPU threads for inference (0 = all cores).", DefaultValueFactory = _ => 0 };
    public readonly Option<bool> NoGeoJson = new("--no-geojson") { Description = "Skip the GeoJSON polygons." };

    public void AddTo(Command cmd)
    {
        foreach (var o in new Option[] { Model, Mpp, AssumeMpp, Level, Tile, Overlap, Batch, Blend, NoTissueMask, MinTissue, Device, Precision, Threads, NoGeoJson })
            cmd.Options.Add(o);
    }

    public SegmentOptions Read(ParseResult parse)
    {
        try
        {
            return new SegmentOptions
            {
                ModelPath = parse.GetValue(Model),
                Mpp = parse.GetValue(Mpp),
                AssumeMpp = parse.GetValue(AssumeMpp),
                Level = parse.GetValue(Level),
                Tile = parse.GetValue(Tile),
                Overlap = parse.GetValue(Overlap),
                BatchSize = parse.GetValue(Batch),
                Blend = parse.GetValue(Blend),
                TissueMask = !parse.GetValue(NoTissueMask),
                MinTissueFraction = parse.GetValue(MinTissue),
                Device = parse.GetValue(Device)!,
                Precision = parse.GetValue(Precision)!,
                Threads = parse.GetValue(Threads),
                WriteGeoJson = !parse.GetValue(NoGeoJson),
            }.Validate();
        }
        catch (ArgumentException e)
        {
            throw new UserError(e.Message, e);
        }
    }
}
