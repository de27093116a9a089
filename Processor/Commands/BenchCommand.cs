using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using WsiSegment.Model;
using WsiSegment.Model.Cards;
using WsiSegment.Model.Inference;
using WsiSegment.Model.Network;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Weights;
using WsiSegment.Processor.Cli;
using static TorchSharp.torch;

namespace WsiSegment.Processor.Commands;

/// <summary>`wsi-segment bench …`: throughput measurements. `bench model`: ESPNet forward speed; `bench train`: training speed.</summary>
public static class BenchCommand
{
    public static Command Create() => new("bench", "Measure throughput of the pipeline's parts.") { CreateModel(), Bench.PipelineBenchmark.Create(), BenchTrainCommand.Create() };

    private sealed record Row(string Config, string Shape, double MedianMs, double MinMs, double MegapixelsPerSecond);

    private static Command CreateModel()
    {
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Checkpoint to time (default: a fresh ESPNet p=2 q=8 with 8 classes)." };
        var runs = new Option<int>("--runs") { Description = "Timed runs per case (median reported).", DefaultValueFactory = _ => 10 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed runs first.", DefaultValueFactory = _ => 3 };
        var threads = new Option<int>("--threads") { Description = "Intra-op threads (0 = all cores).", DefaultValueFactory = _ => 0 };
        var precisions = new Option<string>("--precision") { Description = "Comma list of fp32, bf16 (fp16 on CUDA).", DefaultValueFactory = _ => "fp32,bf16" };
        var fold = new Option<string>("--fold") { Description = "both, on or off.", DefaultValueFactory = _ => "both" };
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N.", DefaultValueFactory = _ => "auto" };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON." };
        var shapeList = new Option<string>("--shapes") { Description = "Comma list of NxHxW inputs.", DefaultValueFactory = _ => "1x384x384,8x384x384,16x384x384,1x512x1024" };
        var cmd = new Command("model", "ms per forward and megapixels/s of ESPNet for 384×384 batches of 1, 8, 16 and 1×512×1024; " +
            "folded vs unfolded BatchNorm, fp32 vs bf16; per-patch overhead of PredictProbabilities at batch 8.")
            { checkpoint, runs, warmup, threads, precisions, fold, device, json, shapeList };
        cmd.SetAction((parse, ct) => CommandRunner.RunAsync(parse, "bench model", ct, (_, ct2) =>
        {
            TorchRuntime.Initialise(parse.GetValue(threads));
            int nRuns = Math.Max(1, parse.GetValue(runs)), nWarm = Math.Max(0, parse.GetValue(warmup));
            using var model = parse.GetValue(checkpoint) is { } path
                ? Checkpoint.Load(path)
                : new LoadedModel(NetworkFactory.Create(ModelArchitecture.EspNet, 8), ModelCard.Default(ModelArchitecture.EspNet, 8), "fresh ESPNet p=2 q=8, 8 classes");
            model.Network.eval();
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
            string env = $"threads {get_num_threads()}, cores {Environment.ProcessorCount}, allocator tuned {TorchRuntime.AllocatorTuned}, {model.Source}";
            Console.Error.WriteLine($"bench model: {env}; median of {nRuns} after {nWarm} warm-up runs");
            double? forward8 = null, predict8 = null;
            foreach (var precision in precisionList)
            foreach (var folded in foldModes)
            {
                using var engine = InferenceEngine.Create(model, new InferenceOptions { Device = parse.GetValue(device)!, Precision = precision, FoldBatchNorm = folded });
                string config = $"{precision.ToString().ToLowerInvariant()} {(folded ? "folded" : "unfolded")}";
                foreach (var (n, h, w) in shapes)
                {
                    ct2.ThrowIfCancellationRequested();
                    using var x = randn(n, 3, h, w);
                    var times = Time(nWarm, nRuns, () => { using var y = engine.Logits(x); });
                    var row = Summarise(config, $"{n}x3x{h}x{w}", times, (double)n * h * w);
                    rows.Add(row);
                    Console.Error.WriteLine($"  {row.Config,-16} {row.Shape,-14} {row.MedianMs,9:0.0} ms  {row.MegapixelsPerSecond,6:0.00} MP/s");
                    if (precision == InferencePrecision.Fp32 && folded && n == 8) forward8 = row.MedianMs;
                }
                if (precision == InferencePrecision.Fp32 && folded)
                {
                    var rgb = new byte[8 * 384 * 384 * 3];
                    new Random(1).NextBytes(rgb);
                    var probs = new float[8 * engine.Classes * 384 * 384];
                    var times = Time(nWarm, nRuns, () => engine.PredictProbabilities(rgb, 8, 384, 384, probs));
                    var row = Summarise(config + " bytes→probs", "8x384x384x3", times, 8.0 * 384 * 384);
                    rows.Add(row);
                    predict8 = row.MedianMs;
                    Console.Error.WriteLine($"  {row.Config,-16} {row.Shape,-14} {row.MedianMs,9:0.0} ms  {row.MegapixelsPerSecond,6:0.00} MP/s");
                }
            }
            double? overhead = forward8 is { } f8 && predict8 is { } p8 ? (p8 - f8) / f8 : null;
            if (overhead is { } o)
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  per-patch overhead at batch 8 (PredictProbabilities vs Logits, fp32 folded): {o:P1}"));
            if (parse.GetValue(json))
                Console.Out.WriteLine(JsonSerializer.Serialize(new { environment = env, runs = nRuns, warmup = nWarm, rows, overhead_batch8 = overhead }, JsonOutput.Options));
            return Task.FromResult(CommandRunner.Ok);
        }));
        return cmd;
    }

    private static (int N, int H, int W) ParseShape(string text)
    {
        var parts = text.Split('x');
        if (parts.Length != 3 || !parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0))
            throw new UserError($"--shapes: '{text}' is not NxHxW");
        return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture), int.Parse(parts[2], CultureInfo.InvariantCulture));
    }

    private static List<double> Time(int warmup, int runs, Action action)
    {
        for (int i = 0; i < warmup; i++) action();
        var times = new List<double>(runs);
        for (int i = 0; i < runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        return times;
    }

    private static Row Summarise(string config, string shape, List<double> times, double pixels)
    {
        times.Sort();
        double median = times.Count % 2 == 1 ? times[times.Count / 2] : (times[times.Count / 2 - 1] + times[times.Count / 2]) / 2;
        return new Row(config, shape, Math.Round(median, 2), Math.Round(times[0], 2), Math.Round(pixels / 1e6 / (median / 1000), 3));
    }
}
