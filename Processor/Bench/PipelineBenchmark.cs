using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using WsiSegment.Core.Scores;
using WsiSegment.Model;
using WsiSegment.Model.Cards;
using WsiSegment.Model.Inference;
using WsiSegment.Model.Network;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Weights;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Commands;
using WsiSegment.Processor.Segmentation;
using WsiSegment.Tiling.Phantoms;
using WsiSegment.Stitching.Output;

namespace WsiSegment.Processor.Bench;

/// <summary>
/// `wsi-segment bench pipeline`: end-to-end throughput against model-only throughput for the same tile, overlap
/// and batch, on a generated all-tissue phantom (10,000×12,000 by default), and peak RSS of a 4× larger side
/// (40,000×48,000) against it. Each segmentation runs in a child process so its peak RSS is its own.
/// <para>
/// Throughput is measured twice: with inference on every core (the default), where reading, stitching and writing
/// take CPU from the model, so the model's share of the CPU caps the ratio; and with compute on cores of its own
/// (one core left to the rest), which is how a GPU machine runs and shows whether the rest hides behind compute.
/// </para>
/// </summary>
public static class PipelineBenchmark
{
    public static Command Create()
    {
        var size = new Option<string>("--size") { Description = "Phantom size WxH for the throughput run.", DefaultValueFactory = _ => "10000x12000" };
        var bigSize = new Option<string>("--big-size") { Description = "Phantom size WxH for the memory-scaling run (a whole multiple of --size repeats that phantom).", DefaultValueFactory = _ => "40000x48000" };
        var noBig = new Option<bool>("--no-big") { Description = "Skip the memory-scaling run (it takes several minutes)." };
        var work = new Option<string?>("--work") { Description = "Folder for generated slides and outputs, kept, and phantoms in it reused by later runs (default: a temporary folder, removed after)." };
        var runs = new Option<int>("--runs") { Description = "Timed model-only forwards (median reported).", DefaultValueFactory = _ => 10 };
        var noOwnCores = new Option<bool>("--no-own-cores") { Description = "Skip the throughput run with compute on cores of its own (one core left for reading, stitching and writing)." };
        var noFresh = new Option<bool>("--no-fresh") { Description = "Skip the same slide with fresh (untrained) ESPNet p=2 q=8 weights: the trained/fresh ratio." };
        var modelOnly = new Option<bool>("--model-only") { Description = "Only time the model and print the figures as JSON (how the benchmark times the model in a fresh process).", Hidden = true };
        var options = new SegmentOptionSet();
        var cmd = new Command("pipeline", "End-to-end MP/s vs model-only MP/s, stage breakdown, and peak RSS scaling with slide size.")
        {
            size, bigSize, noBig, work, runs, noOwnCores, noFresh, modelOnly,
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
                TorchRuntime.Initialise(seg.Threads);
                int threads = TorchRuntime.Threads;
                double trainedMpp;
                ModelTiming all;
                ModelTiming? fresh = null;
                string? freshPath = null;
                using (var model = Checkpoint.Load(modelPath))
                {
                    trainedMpp = seg.Mpp ?? model.Card.TrainedMpp ?? 0.5;
                    all = TimeModel(model, seg, parse.GetValue(runs), threads);
                    if (!parse.GetValue(modelOnly) && !parse.GetValue(noFresh))
                    {
                        // Fresh weights at the trained model's MPP, so both segment the same grid of the same slide.
                        freshPath = Path.Combine(dir, "fresh-espnet-p2q8.safetensors");
                        var card = ModelCard.Default(ModelArchitecture.EspNet, 8) with { TrainedMpp = trainedMpp, Description = "fresh weights (bench pipeline)" };
                        TorchRuntime.SeedRandom(1);
                        using var freshModel = new LoadedModel(NetworkFactory.Create(ModelArchitecture.EspNet, 8), card, "fresh ESPNet p=2 q=8");
                        Checkpoint.Save(freshPath, freshModel.Network, card);
                        fresh = TimeModel(freshModel, seg, parse.GetValue(runs), threads);
                    }
                }
                if (parse.GetValue(modelOnly))
                {
                    Console.Out.WriteLine(JsonSerializer.Serialize(all, JsonOutput.Options));
                    return CommandRunner.Ok;
                }
                // On a GPU, compute has its own device already; on the CPU, one core is left to the other stages. Its
                // model-only figure comes from a fresh process started at that thread count, as the segment child is,
                // so the two differ only in what the pipeline adds.
                bool onCpu = TorchRuntime.RunsOnCpu(seg.Device);
                int ownCores = onCpu && !parse.GetValue(noOwnCores) ? Math.Min(threads, Environment.ProcessorCount - 1) : 0;
                ModelTiming? own = ownCores > 0 ? await TimeModelInChildAsync(seg with { Threads = ownCores }, parse.GetValue(runs), token) : null;
                foreach (var (who, m) in new[] { ("trained", all), ("fresh", fresh), ("trained", own) })
                    if (m is not null)
                        log.LogInformation("Model only, {Who} weights, {Threads}: {Ms:0.0} ms per batch of {B}x{T}², {Mps:0.00} computed MP/s",
                            who, Threads(m.Threads), m.Ms, seg.BatchSize, seg.Tile, m.Mps);

                // 2. End to end on the phantoms (child processes).
                var small = await RunSegmentAsync(parse, seg, dir, parse.GetValue(size)!, trainedMpp, log, token);
                SegmentRun? smallOwn = own is null ? null
                    : await RunSegmentAsync(parse, seg with { Threads = ownCores }, dir, parse.GetValue(size)!, trainedMpp, log, token, "out-own-cores");
                SegmentRun? smallFresh = freshPath is null ? null
                    : await RunSegmentAsync(parse, seg with { ModelPath = freshPath }, dir, parse.GetValue(size)!, trainedMpp, log, token, "out-fresh");
                SegmentRun? big = parse.GetValue(noBig) ? null
                    : await RunSegmentAsync(parse, seg, dir, parse.GetValue(bigSize)!, trainedMpp, log, token, scaleOf: SynthCommand.ParseSize(parse.GetValue(size)!));

                Print(seg, modelPath, all, small, own, smallOwn, fresh, smallFresh, big);
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

    /// <summary>Model only at <paramref name="Threads"/> intra-op threads: median ms per batch, computed MP/s, CPU core-seconds per batch.</summary>
    private sealed record ModelTiming(int Threads, double Ms, double Mps, double CpuSeconds);

    /// <summary>Median ms per batch, computed MP/s, and CPU core-seconds per batch (process CPU over the timed series).</summary>
    private static ModelTiming TimeModel(LoadedModel model, SegmentOptions seg, int runs, int threads)
    {
        using var engine = InferenceEngine.Create(model, new InferenceOptions { Device = seg.Device, Precision = InferenceOptions.ParsePrecision(seg.Precision) });
        int tile = seg.Tile, batch = seg.BatchSize;
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
        return new ModelTiming(threads, ms, (double)batch * tile * tile / 1e6 / (ms / 1000), cpuPerBatch);
    }

    /// <summary>The segment options, as a child process takes them (the one declaration of them renders them).</summary>
    private static readonly SegmentOptionSet ChildOptions = new();

    private static List<string> ModelArgs(SegmentOptions seg) => ChildOptions.ToArgs(seg);

    /// <summary>Model-only figures from a fresh process (this benchmark with --model-only).</summary>
    private static async Task<ModelTiming> TimeModelInChildAsync(SegmentOptions seg, int runs, CancellationToken ct)
    {
        var args = new List<string> { "bench", "pipeline", "--model-only", "--runs", runs.ToString(CultureInfo.InvariantCulture) };
        args.AddRange(ModelArgs(seg));
        var r = await SelfProcess.RunAsync(args, ct);
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"timing the model at {Threads(seg.Threads)} failed: {r.Stderr.Trim()}");
        // Logs and libtorch's warnings go to stderr: stdout is the figures alone.
        return JsonSerializer.Deserialize<ModelTiming>(r.Stdout, JsonOutput.Options)
            ?? throw new InvalidOperationException("timing the model printed no figures");
    }

    /// <summary>Segments the phantom of <paramref name="size"/> (generated unless --work holds it) in a child process;
    /// outputs and report go to the phantom's folder, under <paramref name="outName"/>.</summary>
    private static async Task<SegmentRun> RunSegmentAsync(ParseResult parse, SegmentOptions seg, string dir, string size, double mpp, ILogger log, CancellationToken ct,
        string outName = "out", (int Width, int Height)? scaleOf = null)
    {
        var (w, h) = SynthCommand.ParseSize(size);
        var files = scaleOf is { } baseSize ? BenchPhantom.EnsureScaled(dir, baseSize, w, h, mpp, log, ct) : BenchPhantom.Ensure(dir, w, h, mpp, log, ct);
        string slideDir = Path.GetDirectoryName(files.Slide)!;
        log.LogInformation("Segmenting {Size} in a child process", size);
        var (report, _, elapsed) = await ChildSegment.RunAsync(files.Slide, Path.Combine(slideDir, outName), ModelArgs(seg with { Mpp = mpp }), $"the {size} phantom", ct);
        double computed = (double)report.Patches.Run * report.Analysis.Tile * report.Analysis.Tile / 1e6 / report.TotalSeconds;
        return new SegmentRun(size, report, elapsed.TotalSeconds, computed, report.MegapixelsPerSecond);
    }

    private static void Print(SegmentOptions seg, string modelPath, ModelTiming all, SegmentRun small, ModelTiming? own, SegmentRun? smallOwn,
        ModelTiming? fresh, SegmentRun? smallFresh, SegmentRun? big)
    {
        var c = CultureInfo.InvariantCulture;
        int cores = Environment.ProcessorCount;
        var t = new Table().Title(Markup.Escape($"bench pipeline: {Path.GetFileName(modelPath)} (trained), tile {seg.Tile}, overlap {seg.Overlap}, batch {seg.BatchSize}, {seg.Precision}, {cores} cores"))
            .AddColumns("figure", "value");
        AddModel(t, all, c);
        AddRun(t, seg, all, small, small.Size, c);
        if (fresh is not null && smallFresh is not null)
        {
            AddModel(t, fresh, c, "fresh p2 q8 weights");
            AddRun(t, seg, fresh, smallFresh, $"{smallFresh.Size}, fresh p2 q8 weights", c);
            // Two networks when the trained one is not p2 q8 (the bundled model is p2 q3): bench model compares like with like.
            string ratio = $"[bold]trained p{small.Report.Model.P} q{small.Report.Model.Q} / fresh p2 q8[/]";
            t.AddRow($"{ratio}: model-only ms per batch", (all.Ms / fresh.Ms).ToString("0.00", c));
            t.AddRow($"{ratio}: end-to-end seconds", (small.Report.TotalSeconds / smallFresh.Report.TotalSeconds).ToString("0.00", c));
        }
        if (own is not null && smallOwn is not null)
        {
            // The same slide with inference on one core fewer: the other stages get a core of their own, as on a GPU
            // machine, so this ratio shows whether they hide behind compute rather than how they share the cores.
            AddModel(t, own, c);
            AddRun(t, seg, own, smallOwn, $"{smallOwn.Size}, compute on {own.Threads} of {cores} cores", c);
        }
        if (big is not null)
        {
            AddRun(t, seg, all, big, big.Size, c);
            t.AddRow("peak RSS big / small", ((double)big.Report.PeakRssBytes / Math.Max(1, small.Report.PeakRssBytes)).ToString("0.00", c));
        }
        AnsiConsole.Write(t);
    }

    private static void AddModel(Table t, ModelTiming m, CultureInfo c, string? weights = null)
    {
        string on = Threads(m.Threads) + (weights is null ? "" : ", " + weights);
        t.AddRow($"[bold]model only, {on}[/]: ms per batch (median)", m.Ms.ToString("0.0", c));
        t.AddRow($"model only, {on}: computed MP/s", m.Mps.ToString("0.00", c));
        t.AddRow($"model only, {on}: CPU core-seconds per batch", m.CpuSeconds.ToString("0.000", c));
    }

    private static string Threads(int n) => n == 1 ? "1 thread" : $"{n} threads";

    private static void AddRun(Table t, SegmentOptions seg, ModelTiming model, SegmentRun run, string label, CultureInfo c)
    {
        label = Markup.Escape(label);
        t.AddRow($"[bold]{label}[/]: total seconds (report / process)", string.Create(c, $"{run.Report.TotalSeconds:0.0} / {run.WallSeconds:0.0}"));
        t.AddRow($"{label}: end-to-end computed MP/s", run.ComputedMps.ToString("0.00", c));
        t.AddRow($"{label}: end-to-end / model-only ({Threads(model.Threads)})", (run.ComputedMps / model.Mps).ToString("0.00", c));
        // When the cores are the limit, throughput goes as CPU work: the model's share of the slide's CPU time
        // is the most the ratio above can reach on these cores, however well the stages overlap.
        double batches = Math.Ceiling((double)run.Report.Patches.Run / seg.BatchSize);
        if (run.Report.CpuSeconds > 0)
            t.AddRow($"{label}: CPU core-seconds (model's share)", string.Create(c,
                $"{run.Report.CpuSeconds:0.0} ({batches * model.CpuSeconds / run.Report.CpuSeconds:0.00})"));
        t.AddRow($"{label}: slide MP/s (unique pixels)", run.SlideMps.ToString("0.00", c));
        t.AddRow($"{label}: peak RSS (MB)", (run.Report.PeakRssBytes >> 20).ToString(c));
        if (run.Report.Stream is { } st)
            // "Hidden behind compute", measured where it shows: inference idle for want of patches (reading behind)
            // or blocked on a full stitcher queue. Filling the pipeline before the first batch is separate.
            t.AddRow($"{label}: stream seconds; inference idle: fill / for patches / for stitcher", string.Create(c,
                $"{st.Seconds:0.0}; {st.InferenceFillSeconds:0.00} / {st.InferenceWaitedForPatchesSeconds:0.00} / {st.InferenceWaitedForStitcherSeconds:0.00}"));
        t.AddRow($"{label}: stage busy seconds", Markup.Escape(string.Join(", ", run.Report.StageSeconds.Select(kv => string.Create(c, $"{kv.Key} {kv.Value:0.0}")))));
    }
}
