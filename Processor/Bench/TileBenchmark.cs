using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Commands;
using WsiSegment.Processor.Segmentation;
using WsiSegment.Stitching.Output;
using WsiSegment.Tiling.Labels;

namespace WsiSegment.Processor.Bench;

/// <summary>
/// `wsi-segment bench tiles`: the same all-tissue phantom segmented end to end with each tile size, in fp32 and bf16,
/// each run in a child process of its own (its own peak RSS): slide megapixels per second (the figure users wait on),
/// the share of computed pixels that are unique (overlap costs ((T − overlap)/T)² and partial edge tiles more),
/// peak RSS, and how far bf16's labels agree with fp32's at the same tile. Picks the fastest tile within the memory
/// bound and says what `--precision auto`'s rule would choose at each size.
/// </summary>
public static class TileBenchmark
{
    public sealed record Run(int Tile, string Precision, double TotalSeconds, double StreamSeconds, double InferenceSeconds,
        double SlideMegapixelsPerSecond, double UniqueFraction, long PeakRssBytes, double? LabelAgreementWithFp32);

    public static Command Create()
    {
        var size = new Option<string>("--size") { Description = "Phantom size WxH (level 0).", DefaultValueFactory = _ => "20000x24000" };
        var slideMpp = new Option<double>("--slide-mpp") { Description = "The phantom's µm/px (it is analysed at the model card's).", DefaultValueFactory = _ => 0.5 };
        var tiles = new Option<string>("--tiles") { Description = "Comma list of tile sizes.", DefaultValueFactory = _ => "512,1024,1536,2048" };
        var overlap = new Option<int>("--overlap") { Description = "Overlap in analysis pixels, the same for every tile.", DefaultValueFactory = _ => 128 };
        var precisions = new Option<string>("--precision") { Description = "Comma list of fp32, bf16.", DefaultValueFactory = _ => "fp32,bf16" };
        var maxRss = new Option<double>("--max-rss-gb") { Description = "Memory bound for the recommendation (GB).", DefaultValueFactory = _ => 2.0 };
        var model = new Option<string?>("--model") { Description = "Checkpoint (default: the bundled demo model)." };
        var work = new Option<string?>("--work") { Description = "Folder for the phantom and outputs, kept and reused (default: a temporary folder, removed after)." };
        var json = new Option<bool>("--json") { Description = "Print the runs as JSON on stdout." };
        var cmd = new Command("tiles", "End-to-end slide MP/s, unique-pixel share and peak RSS for each tile size in fp32 and bf16, and bf16's label agreement with fp32.")
            { size, slideMpp, tiles, overlap, precisions, maxRss, model, work, json };
        cmd.SetAction((parse, ct) => CommandRunner.RunAsync(parse, "bench tiles", ct, async (logs, token) =>
        {
            var log = logs.CreateLogger("wsi-segment.bench");
            var (w, h) = SynthCommand.ParseSize(parse.GetValue(size)!);
            var tileList = ParseInts(parse.GetValue(tiles)!, "--tiles");
            var precisionList = parse.GetValue(precisions)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            if (precisionList.Count == 0 || precisionList.Any(p => p is not ("fp32" or "bf16")))
                throw new UserError($"--precision {parse.GetValue(precisions)}: a comma list of fp32 and bf16");
            int o = parse.GetValue(overlap);
            foreach (int t in tileList)
            {
                try { new SegmentOptions { Tile = t, Overlap = o }.Validate(); }
                catch (ArgumentException e) { throw new UserError(e.Message, e); }
            }
            string modelPath = parse.GetValue(model) ?? BundledModel.Path;
            string dir = parse.GetValue(work) ?? Path.Combine(Path.GetTempPath(), "wsi-segment-bench-tiles-" + Environment.ProcessId);
            bool temporary = parse.GetValue(work) is null;
            Directory.CreateDirectory(dir);
            try
            {
                var phantom = BenchPhantom.Ensure(dir, w, h, parse.GetValue(slideMpp), log, token);
                var runs = new List<Run>();
                foreach (int tile in tileList)
                {
                    string? fp32Mask = null;
                    foreach (var precision in precisionList)
                    {
                        string outDir = Path.Combine(Path.GetDirectoryName(phantom.Slide)!, $"tiles-{tile}-{precision}");
                        log.LogInformation("Segmenting with {Tile} px tiles in {Precision}", tile, precision);
                        var (report, outputs, _) = await ChildSegment.RunAsync(phantom.Slide, outDir, ["--model", modelPath,
                            "--tile", tile.ToString(CultureInfo.InvariantCulture), "--overlap", o.ToString(CultureInfo.InvariantCulture), "--precision", precision],
                            $"the phantom with {tile} px tiles in {precision}", token);
                        double? agreement = null;
                        if (precision == "fp32") fp32Mask = outputs.Mask;
                        else if (fp32Mask is not null) agreement = LabelAgreement.Fraction(fp32Mask, outputs.Mask);
                        double slidePixels = (double)report.Analysis.Width * report.Analysis.Height;
                        double computed = (double)report.Patches.Run * tile * tile;
                        runs.Add(new Run(tile, precision, report.TotalSeconds, report.Stream?.Seconds ?? double.NaN,
                            report.StageSeconds.GetValueOrDefault("inference"), Math.Round(slidePixels / 1e6 / report.TotalSeconds, 3),
                            Math.Round(slidePixels / Math.Max(1, computed), 4), report.PeakRssBytes, agreement));
                    }
                }
                Print(runs, parse.GetValue(maxRss), w, h, o);
                if (parse.GetValue(json))
                    Console.Out.WriteLine(JsonSerializer.Serialize(runs, JsonOutput.Options));
                return CommandRunner.Ok;
            }
            finally
            {
                if (temporary)
                    try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
            }
        }));
        return cmd;
    }

    private static void Print(List<Run> runs, double maxRssGb, int w, int h, int overlap)
    {
        var c = CultureInfo.InvariantCulture;
        var t = new Table().Title(Markup.Escape($"bench tiles: {w}x{h} phantom, overlap {overlap}, {Environment.ProcessorCount} cores"));
        foreach (var col in new[] { "tile", "precision", "total s", "stream s", "inference s", "slide MP/s", "unique share", "peak RSS MB", "bf16 labels = fp32" })
            t.AddColumn(col);
        foreach (var r in runs)
            t.AddRow(r.Tile.ToString(c), r.Precision, r.TotalSeconds.ToString("0.00", c), r.StreamSeconds.ToString("0.00", c), r.InferenceSeconds.ToString("0.00", c),
                r.SlideMegapixelsPerSecond.ToString("0.00", c), r.UniqueFraction.ToString("P1", c), (r.PeakRssBytes >> 20).ToString(c),
                r.LabelAgreementWithFp32 is { } a ? a.ToString("P3", c) : "");
        AnsiConsole.Console.Profile.Width = Math.Max(AnsiConsole.Console.Profile.Width, 140);
        AnsiConsole.Write(t);
        long bound = (long)(maxRssGb * 1e9);
        foreach (var precision in runs.Select(r => r.Precision).Distinct())
        {
            var best = runs.Where(r => r.Precision == precision && r.PeakRssBytes < bound).MaxBy(r => r.SlideMegapixelsPerSecond);
            if (best is not null)
                Console.Error.WriteLine(string.Create(c, $"fastest {precision} tile within {maxRssGb:0.#} GB: {best.Tile} px ({best.SlideMegapixelsPerSecond:0.00} slide MP/s, peak RSS {best.PeakRssBytes >> 20} MB)"));
        }
        foreach (var tile in runs.Select(r => r.Tile).Distinct())
        {
            var f = runs.FirstOrDefault(r => r.Tile == tile && r.Precision == "fp32");
            var b = runs.FirstOrDefault(r => r.Tile == tile && r.Precision == "bf16");
            if (f is null || b is null || b.LabelAgreementWithFp32 is not { } agree) continue;
            var decision = Model.Inference.PrecisionProbe.Decide(new Model.Inference.PrecisionComparison(f.InferenceSeconds * 1000, b.InferenceSeconds * 1000, agree, 1, tile, tile));
            Console.Error.WriteLine(string.Create(c, $"tile {tile}: bf16/fp32 inference time {b.InferenceSeconds / f.InferenceSeconds:0.00}×, end to end {b.TotalSeconds / Math.Max(1e-9, f.TotalSeconds):0.00}×; --precision auto's rule on these figures: {decision.Chosen.ToString().ToLowerInvariant()} ({decision.Reason})"));
        }
    }

    private static List<int> ParseInts(string text, string option)
    {
        var list = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v <= 0)
                throw new UserError($"{option} {text}: '{part}' is not a positive whole number");
            list.Add(v);
        }
        if (list.Count == 0) throw new UserError($"{option}: give at least one size");
        return list;
    }
}
