using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using WsiSegment.Core.Scores;
using WsiSegment.Model;
using WsiSegment.Model.Cards;
using WsiSegment.Model.Inference;
using WsiSegment.Model.Network;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Weights;
using WsiSegment.Processor.Bench;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Segmentation;
using static WsiSegment.Processor.Bench.BenchTiming;

namespace WsiSegment.Processor.Commands;

/// <summary>`wsi-segment bench …`: throughput measurements. `bench model`: ESPNet forward speed; `bench train`: training speed.</summary>
public static class BenchCommand
{
    public static Command Create() => new("bench", "Measure throughput of the pipeline's parts.")
        { CreateModel(), Bench.PipelineBenchmark.Create(), Bench.TileBenchmark.Create(), BenchTrainCommand.Create(), Bench.ServeBenchmark.Create(), Bench.GeoJsonBenchmark.Create(), Bench.StitchBenchmark.Create(), Bench.IsolationBenchmark.Create() };

    private sealed record Row(string Model, string Config, string Shape, double MedianMs, double MinMs, double MegapixelsPerSecond, double? CpuMs);

    /// <summary>Trained weights against fresh ones of the same network, per configuration and shape (median over median).</summary>
    private sealed record Ratio(string Config, string Shape, double TrainedOverFresh, double CpuTrainedOverFresh);

    private static Command CreateModel()
    {
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Trained checkpoint to time (default: the bundled demo model)." };
        var fresh = new Option<bool>("--fresh") { Description = "Time only a fresh (randomly initialised) ESPNet p=2 q=8 with 8 classes, no trained weights." };
        var noTwin = new Option<bool>("--no-fresh-twin") { Description = "Do not also time fresh weights of the checkpoint's network (the trained/fresh ratio)." };
        var runs = new Option<int>("--runs") { Description = "Timed runs per case (median reported).", DefaultValueFactory = _ => 10 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed runs first.", DefaultValueFactory = _ => 3 };
        var threads = new Option<int>("--threads") { Description = "Intra-op threads (0 = all cores).", DefaultValueFactory = _ => 0 };
        var precisions = new Option<string>("--precision") { Description = "Comma list of fp32, bf16 (fp16 on CUDA).", DefaultValueFactory = _ => "fp32,bf16" };
        var fold = new Option<string>("--fold") { Description = "both, on or off.", DefaultValueFactory = _ => "both" };
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N.", DefaultValueFactory = _ => "auto" };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON." };
        var shapeList = new Option<string>("--shapes") { Description = "Comma list of NxHxW inputs.", DefaultValueFactory = _ => "1x384x384,8x384x384,1x512x1024,1x1024x1024" };
        var cmd = new Command("model", "ms per forward and megapixels/s of ESPNet, trained weights (the bundled model by default) against fresh " +
            "weights of the same network, for 384×384 batches of 1 and 8, 1×512×1024 and 1×1024×1024; folded vs unfolded BatchNorm, fp32 vs bf16; " +
            "per-patch overhead at batch 8 (bytes in, scores out, against the forward alone).")
            { checkpoint, fresh, noTwin, runs, warmup, threads, precisions, fold, device, json, shapeList };
        cmd.SetAction((parse, ct) => CommandRunner.RunAsync(parse, "bench model", ct, (_, ct2) =>
        {
            TorchRuntime.Initialise(parse.GetValue(threads));
            int nRuns = Math.Max(1, parse.GetValue(runs)), nWarm = Math.Max(0, parse.GetValue(warmup));
            var models = LoadModels(parse.GetValue(fresh), parse.GetValue(checkpoint), parse.GetValue(noTwin));
            try
            {
                var foldModes = parse.GetValue(fold) switch
                {
                    "on" => new[] { true },
                    "off" => new[] { false },
                    "both" => new[] { true, false },
                    var f => throw new UserError($"--fold {f}: use both, on or off"),
                };
                var precisionList = parse.GetValue(precisions)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(p => { try { return InferenceOptions.ParsePrecision(p); } catch (ArgumentException e) { throw new UserError(e.Message, e); } }).ToList();
                var shapes = parse.GetValue(shapeList)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(ParseShape).ToArray();

                var rows = new List<Row>();
                var ratios = new List<Ratio>();
                string env = $"threads {TorchRuntime.Threads}, cores {Environment.ProcessorCount}, allocator tuned {TorchRuntime.AllocatorTuned}, " +
                             $"flush denormals {TorchRuntime.FlushesDenormals}; " + string.Join(" against ", models.Select(m => $"{m.Label}: {m.Model.Source}"));
                Console.Error.WriteLine($"bench model: {env}; median of {nRuns} after {nWarm} warm-up runs, the models timed in turn");
                double? overhead = null, overheadProbs = null;
                foreach (var precision in precisionList)
                foreach (var folded in foldModes)
                {
                    var options = new InferenceOptions { Device = parse.GetValue(device)!, Precision = precision, FoldBatchNorm = folded };
                    var engines = models.Select(m => InferenceEngine.Create(m.Model, options)).ToList();
                    try
                    {
                        string config = $"{precision.ToString().ToLowerInvariant()} {(folded ? "folded" : "unfolded")}";
                        foreach (var (n, h, w) in shapes)
                        {
                            ct2.ThrowIfCancellationRequested();
                            using var x = NetworkInput.Random(n, h, w);
                            var timings = TimeInTurn(engines, x, nWarm, nRuns);
                            var shapeRows = models.Select((m, i) => Summarise(m.Label, config, $"{n}x3x{h}x{w}", timings[i], (double)n * h * w)).ToList();
                            foreach (var row in shapeRows)
                            {
                                rows.Add(row);
                                Console.Error.WriteLine($"  {row.Model,-8} {row.Config,-16} {row.Shape,-14} {row.MedianMs,9:0.0} ms  {row.MegapixelsPerSecond,6:0.00} MP/s  {row.CpuMs,9:0.0} CPU ms");
                            }
                            if (shapeRows.Count == 2)
                            {
                                var r = new Ratio(config, $"{n}x3x{h}x{w}", Math.Round(shapeRows[0].MedianMs / shapeRows[1].MedianMs, 3), Math.Round(shapeRows[0].CpuMs!.Value / shapeRows[1].CpuMs!.Value, 3));
                                ratios.Add(r);
                                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  trained/fresh {r.Config} {r.Shape}: {r.TrainedOverFresh:0.00}× wall, {r.CpuTrainedOverFresh:0.00}× CPU"));
                            }
                        }
                        if (precision == InferencePrecision.Fp32 && folded)
                            (overhead, overheadProbs) = MeasureOverhead(engines[0], $"{models[0].Label} {config}", Math.Max(20, nRuns), nWarm, rows);
                    }
                    finally
                    {
                        foreach (var e in engines) e.Dispose();
                    }
                }
                // The segment pipeline takes logits (the stitcher applies softmax only where tiles overlap): that is the
                // engine's per-patch overhead; the probabilities figure adds a full-frame softmax.
                if (overhead is { } o)
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  per-patch overhead at batch 8 vs the forward alone (fp32 folded): bytes → logits {o:P1}, bytes → probabilities {overheadProbs:P1}"));
                if (parse.GetValue(json))
                    Console.Out.WriteLine(JsonSerializer.Serialize(new { environment = env, runs = nRuns, warmup = nWarm, rows, trained_over_fresh = ratios, overhead_batch8 = overhead, overhead_batch8_probabilities = overheadProbs }, JsonOutput.Options));
                return Task.FromResult(CommandRunner.Ok);
            }
            finally
            {
                foreach (var (_, m) in models) m.Dispose();
            }
        }));
        return cmd;
    }

    /// <summary>
    /// What to time: the trained checkpoint (the bundled model unless named) and fresh weights of the same network
    /// (PyTorch's default initialisation), or with <paramref name="freshOnly"/> a fresh ESPNet p=2 q=8 with 8 classes alone.
    /// </summary>
    private static List<(string Label, LoadedModel Model)> LoadModels(bool freshOnly, string? checkpoint, bool noTwin)
    {
        static LoadedModel Fresh(NetworkSpec s) => new(NetworkFactory.Create(s),
            ModelCard.Default(s.Architecture, s.Classes, s.P, s.Q), $"fresh {s.Architecture.Name()} p={s.P} q={s.Q}, {s.Classes} classes");
        if (freshOnly)
        {
            if (checkpoint is not null) throw new UserError("--fresh times fresh weights only: leave out --checkpoint");
            return [("fresh", Fresh(new NetworkSpec(ModelArchitecture.EspNet, 8, 2, 8)))];
        }
        string path = checkpoint ?? BundledModel.Path;
        if (!File.Exists(path)) throw new UserError($"{path}: no such checkpoint" + (checkpoint is null ? " (the bundled model is copied beside the executable at build)" : ""));
        var trained = Checkpoint.Load(path);
        if (noTwin) return [("trained", trained)];
        return [("trained", trained), ("fresh", Fresh(trained.Spec))];
    }

    /// <summary>Warm-up, then the engines run in turn, run after run, so drift on a shared machine hits them alike. Wall and process CPU ms per run.</summary>
    private static List<(List<double> Wall, List<double> Cpu)> TimeInTurn(List<InferenceEngine> engines, NetworkInput x, int warmup, int runs)
    {
        var result = engines.Select(_ => (Wall: new List<double>(runs), Cpu: new List<double>(runs))).ToList();
        for (int i = 0; i < warmup; i++)
            foreach (var e in engines) e.RunForward(x);
        for (int i = 0; i < runs; i++)
            for (int k = 0; k < engines.Count; k++)
            {
                var engine = engines[k];
                var cpu = CpuTime();
                result[k].Wall.Add(TimeOnce(() => engine.RunForward(x)));
                result[k].Cpu.Add((CpuTime() - cpu).TotalMilliseconds);
            }
        return result;
    }

    private static TimeSpan CpuTime() => System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;

    /// <summary>
    /// Per-patch overhead at batch 8: bytes in and scores out against the forward alone on the same (pre-normalised)
    /// input. The three are timed in turn, run after run, so drift on a shared machine hits them alike; the overhead is
    /// the median of the per-run differences over the median forward.
    /// </summary>
    private static (double Logits, double Probabilities) MeasureOverhead(InferenceEngine engine, string config, int runs, int warmup, List<Row> rows)
    {
        const int n = 8, side = 384;
        var rgb = new byte[n * side * side * 3];
        new Random(1).NextBytes(rgb);
        using var x = engine.NormaliseRgb(rgb, n, side, side);
        Action forward = () => engine.RunForward(x);
        Action logits = () => { using var s = engine.Predict(rgb, n, side, side, ScoreKind.Logits); };
        Action probs = () => { using var s = engine.Predict(rgb, n, side, side, ScoreKind.Probabilities); };
        for (int i = 0; i < Math.Max(1, warmup); i++) { forward(); logits(); probs(); }
        var t = new[] { new List<double>(), new List<double>(), new List<double>() };
        for (int i = 0; i < runs; i++)
        {
            t[0].Add(TimeOnce(forward));
            t[1].Add(TimeOnce(logits));
            t[2].Add(TimeOnce(probs));
        }
        double f = Median(t[0]);
        double Overhead(List<double> a) => Median(a.Zip(t[0], (p, q) => p - q).ToList()) / f;
        foreach (var (name, times) in new[] { ("forward alone", t[0]), ("bytes→logits", t[1]), ("bytes→probs", t[2]) })
        {
            var row = Summarise(config, name, $"{n}x{side}x{side}", (times, []), (double)n * side * side);
            rows.Add(row);
            Console.Error.WriteLine($"  {row.Model,-16} {row.Config,-16} {row.Shape,-14} {row.MedianMs,9:0.0} ms  {row.MegapixelsPerSecond,6:0.00} MP/s");
        }
        return (Overhead(t[1]), Overhead(t[2]));
    }

    private static (int N, int H, int W) ParseShape(string text)
    {
        var parts = text.Split('x');
        if (parts.Length != 3 || !parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0))
            throw new UserError($"--shapes: '{text}' is not NxHxW");
        return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture), int.Parse(parts[2], CultureInfo.InvariantCulture));
    }

    private static Row Summarise(string model, string config, string shape, (List<double> Wall, List<double> Cpu) times, double pixels)
    {
        double median = Median(times.Wall);
        double? cpu = times.Cpu.Count > 0 ? Math.Round(Median(times.Cpu), 2) : null;
        return new Row(model, config, shape, Math.Round(median, 2), Math.Round(times.Wall.Min(), 2), Math.Round(pixels / 1e6 / (median / 1000), 3), cpu);
    }
}
