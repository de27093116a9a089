using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using WsiSegment.Model.Inference;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Weights;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Commands;
using WsiSegment.Processor.Segmentation;
using WsiSegment.Tiling.Phantoms;

namespace WsiSegment.Processor.Bench;

/// <summary>
/// `wsi-segment bench pipeline`: end-to-end throughput against model-only throughput for the same tile, overlap
/// and batch, on a generated all-tissue phantom (10,000×12,000 by default), and peak RSS of a 4× larger side
/// (40,000×48,000) against it. Each segmentation runs in a child process so its peak RSS is its own.
/// </summary>
public static class PipelineBenchmark
{
    public static Command Create()
    {
        var size = new Option<string>("--size") { Description = "Phantom size WxH for the throughput run.", DefaultValueFactory = _ => "10000x12000" };
        var bigSize = new Option<string>("--big-size") { Description = "Phantom size WxH for the memory-scaling run.", DefaultValueFactory = _ => "40000x48000" };
        var noBig = new Option<bool>("--no-big") { Description = "Skip the memory-scaling run (it takes several minutes)." };
        var work = new Option<string?>("--work") { Description = "Folder for generated slides and outputs, kept, and phantoms in it reused by later runs (default: a temporary folder, removed after)." };
        var runs = new Option<int>("--runs") { Description = "Timed model-only forwards (median reported).", DefaultValueFactory = _ => 10 };
        var options = new SegmentOptionSet();
        var cmd = new Command("pipeline", "End-to-end MP/s vs model-only MP/s, stage breakdown, and peak RSS scaling with slide size.")
        {
            size, bigSize, noBig, work, runs,
        };
        options.AddTo(cmd);
        cmd.SetAction((parse, ct) => CommandRunner.RunAsync(parse, "bench pipeline", ct, async (logs, token) =>
        {
            var log = logs.CreateLogger("wsi-segment.bench");
            var seg = options.Read(parse);
            string modelPath = seg.ModelPath ?? BundledModel.Path;
            string dir = parse.GetValue(work) ?? Path.Combine(Path.GetTempPath(), "wsi-segment-bench-" + Environment.ProcessId);
            bool temporary = parse.GetValue(work) is null;
            Directory.CreateDirectory(dir);
            try
            {
                // 1. Model only: the same tile and batch, random pixels, median of N after warm-up.
                double trainedMpp;
                double modelMps;
                double forwardMs;
                double forwardCpuSeconds;
                TorchRuntime.Initialise(seg.Threads);
                using (var model = Checkpoint.Load(modelPath))
                using (var engine = InferenceEngine.Create(model, new InferenceOptions { Device = seg.Device, Precision = InferenceOptions.ParsePrecision(seg.Precision) }))
                {
                    trainedMpp = seg.Mpp ?? model.Card.TrainedMpp ?? 0.5;
                    (forwardMs, modelMps, forwardCpuSeconds) = TimeModel(engine, seg.Tile, seg.BatchSize, parse.GetValue(runs));
                }
                log.LogInformation("Model only: {Ms:0.0} ms per batch of {B}x{T}², {Mps:0.00} computed MP/s", forwardMs, seg.BatchSize, seg.Tile, modelMps);

                // 2. End to end on the phantom (child process).
                var small = await RunSegmentAsync(parse, seg, dir, parse.GetValue(size)!, trainedMpp, log, token);
                SegmentRun? big = parse.GetValue(noBig) ? null : await RunSegmentAsync(parse, seg, dir, parse.GetValue(bigSize)!, trainedMpp, log, token);

                Print(seg, modelMps, forwardMs, forwardCpuSeconds, small, big);
                return CommandRunner.Ok;
            }
            finally
            {
                if (temporary) try { Directory.Delete(dir, true); } catch (IOException) { }
            }
        }));
        return cmd;
    }

    private sealed record SegmentRun(string Size, SegmentReport Report, double WallSeconds, double ComputedMps, double SlideMps);

    /// <summary>Median ms per batch, computed MP/s, and CPU core-seconds per batch (process CPU over the timed series).</summary>
    private static (double Ms, double Mps, double CpuSeconds) TimeModel(InferenceEngine engine, int tile, int batch, int runs)
    {
        var rng = new Random(7);
        var rgb = new byte[(long)batch * tile * tile * 3];
        rng.NextBytes(rgb);
        runs = Math.Max(3, runs);
        // The call the pipeline makes: bytes in, logits out in the network's layout.
        void Forward() => engine.Predict(rgb, batch, tile, tile, ScoreKind.Logits).Dispose();
        Forward();
        Forward(); // warm-up, outside the CPU count
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var times = BenchTiming.Time(warmup: 0, runs, Forward);
        double cpuPerBatch = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds / runs;
        double ms = BenchTiming.Median(times);
        return (ms, (double)batch * tile * tile / 1e6 / (ms / 1000), cpuPerBatch);
    }

    private static async Task<SegmentRun> RunSegmentAsync(ParseResult parse, SegmentOptions seg, string dir, string size, double mpp, ILogger log, CancellationToken ct)
    {
        var (w, h) = SynthCommand.ParseSize(size);
        string slideDir = Path.Combine(dir, string.Create(CultureInfo.InvariantCulture, $"{size}-{mpp}um"));
        var options = new PhantomOptions { Width = w, Height = h, Seed = 11, TissueFraction = 1.0, Mpp = mpp };
        var files = new PhantomFiles(Path.Combine(slideDir, $"phantom-{options.Seed}.tif"), Path.Combine(slideDir, $"phantom-{options.Seed}.labels.tif"));
        // Phantoms are renamed into place only when complete, so one found in --work from an earlier run can be reused.
        if (File.Exists(files.Slide) && File.Exists(files.Labels))
            log.LogInformation("Reusing the {Size} phantom in {Dir}", size, slideDir);
        else
        {
            log.LogInformation("Generating an all-tissue {Size} phantom at {Mpp} µm/px", size, mpp);
            files = PhantomWriter.Write(options, slideDir, null, ct);
        }
        var args = new List<string>
        {
            "segment", files.Slide, "-o", Path.Combine(slideDir, "out"), "--quiet",
            "--tile", seg.Tile.ToString(CultureInfo.InvariantCulture), "--overlap", seg.Overlap.ToString(CultureInfo.InvariantCulture),
            "--batch", seg.BatchSize.ToString(CultureInfo.InvariantCulture), "--device", seg.Device, "--precision", seg.Precision,
            "--mpp", mpp.ToString(CultureInfo.InvariantCulture), "--blend", seg.Blend.ToString().ToLowerInvariant(),
        };
        if (seg.ModelPath is not null) args.AddRange(["--model", seg.ModelPath]);
        if (seg.Threads > 0) args.AddRange(["--threads", seg.Threads.ToString(CultureInfo.InvariantCulture)]);
        log.LogInformation("Segmenting {Size} in a child process", size);
        var r = await SelfProcess.RunAsync(args, ct);
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"segment of the {size} phantom failed: {r.Stderr.Trim()}");
        string reportPath = Path.Combine(slideDir, "out", Path.GetFileNameWithoutExtension(files.Slide) + ".json");
        var report = JsonSerializer.Deserialize<SegmentReport>(await File.ReadAllTextAsync(reportPath, ct), JsonOutput.Options)
            ?? throw new InvalidOperationException(reportPath + ": empty report");
        double computed = (double)report.Patches.Run * report.Analysis.Tile * report.Analysis.Tile / 1e6 / report.TotalSeconds;
        return new SegmentRun(size, report, r.Elapsed.TotalSeconds, computed, report.MegapixelsPerSecond);
    }

    private static void Print(SegmentOptions seg, double modelMps, double forwardMs, double forwardCpuSeconds, SegmentRun small, SegmentRun? big)
    {
        var c = CultureInfo.InvariantCulture;
        var t = new Table().Title($"bench pipeline: tile {seg.Tile}, overlap {seg.Overlap}, batch {seg.BatchSize}, {seg.Precision}, {Environment.ProcessorCount} cores")
            .AddColumns("figure", "value");
        t.AddRow("model only: ms per batch (median)", forwardMs.ToString("0.0", c));
        t.AddRow("model only: computed MP/s", modelMps.ToString("0.00", c));
        t.AddRow("model only: CPU core-seconds per batch", forwardCpuSeconds.ToString("0.000", c));
        foreach (var run in new[] { small, big }.OfType<SegmentRun>())
        {
            t.AddRow($"[bold]{run.Size}[/]: total seconds (report / process)", string.Create(c, $"{run.Report.TotalSeconds:0.0} / {run.WallSeconds:0.0}"));
            t.AddRow($"{run.Size}: end-to-end computed MP/s", run.ComputedMps.ToString("0.00", c));
            t.AddRow($"{run.Size}: end-to-end / model-only", (run.ComputedMps / modelMps).ToString("0.00", c));
            // When the cores are the limit, throughput goes as CPU work: the model's share of the slide's CPU time
            // is the most the ratio above can reach on these cores, however well the stages overlap.
            double batches = Math.Ceiling((double)run.Report.Patches.Run / seg.BatchSize);
            if (run.Report.CpuSeconds > 0)
                t.AddRow($"{run.Size}: CPU core-seconds (model's share)", string.Create(c,
                    $"{run.Report.CpuSeconds:0.0} ({batches * forwardCpuSeconds / run.Report.CpuSeconds:0.00})"));
            t.AddRow($"{run.Size}: slide MP/s (unique pixels)", run.SlideMps.ToString("0.00", c));
            t.AddRow($"{run.Size}: peak RSS (MB)", (run.Report.PeakRssBytes >> 20).ToString(c));
            if (run.Report.Stream is { } st)
                // "Hidden behind compute", measured where it shows: inference idle for want of patches (reading behind)
                // or blocked on a full stitcher queue. Filling the pipeline before the first batch is separate.
                t.AddRow($"{run.Size}: stream seconds; inference idle: fill / for patches / for stitcher", string.Create(c,
                    $"{st.Seconds:0.0}; {st.InferenceFillSeconds:0.00} / {st.InferenceWaitedForPatchesSeconds:0.00} / {st.InferenceWaitedForStitcherSeconds:0.00}"));
            t.AddRow($"{run.Size}: stage busy seconds", Markup.Escape(string.Join(", ", run.Report.StageSeconds.Select(kv => string.Create(c, $"{kv.Key} {kv.Value:0.0}")))));
        }
        if (big is not null)
            t.AddRow("peak RSS big / small", ((double)big.Report.PeakRssBytes / Math.Max(1, small.Report.PeakRssBytes)).ToString("0.00", c));
        AnsiConsole.Write(t);
    }
}
