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
