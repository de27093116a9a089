using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using NetVips;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Watch;
using WsiSegment.Processor.Watch.Isolation;
using WsiSegment.Tiling.Slides;

using WsiSegment.Tiling.Phantoms;

namespace WsiSegment.Processor.Bench;

/// <summary>
/// `wsi-segment bench isolation`: what segmenting each slide in a supervised worker process (`watch --isolation
/// process`) costs against segmenting it in the service's own process (`--isolation none`): the worker's start (spawn
/// + runtime + model load, paid once per worker and again after each crash) and the per-slide difference (the
/// request and progress lines, the result back). Both jobs run the same generated slides, alternating, so that a
/// neighbour's load falls on both alike.
/// </summary>
public static class IsolationBenchmark
{
    public static Command Create()
    {
        var slides = new Option<int>("--slides") { Description = "Slides timed per job.", DefaultValueFactory = _ => 6 };
        var size = new Option<int>("--size") { Description = "Side of each generated phantom in level-0 pixels (0.5 µm/px).", DefaultValueFactory = _ => 2048 };
        var model = new Option<string?>("--model") { Description = "Checkpoint (default: the bundled demo model)." };
        var threads = new Option<int>("--threads") { Description = "Intra-op threads for each job (0 = all cores).", DefaultValueFactory = _ => 0 };
        var cmd = new Command("isolation", "Per-slide cost of watch's worker process (spawn + model load once, requests and progress per slide) against in-process segmentation.")
            { slides, size, model, threads };
        cmd.SetAction((parse, ct) => CommandRunner.RunAsync(parse, "bench isolation", ct, async (logs, token) =>
        {
            int n = Math.Max(1, parse.GetValue(slides));
            string dir = Path.Combine(Path.GetTempPath(), "wsi-segment-bench-isolation-" + Environment.ProcessId);
            Directory.CreateDirectory(dir);
            try
            {
                var settings = new Dictionary<string, string?>
                {
                    [SegmenterJob.Section + ":Tile"] = "256",
                    [SegmenterJob.Section + ":Overlap"] = "32",
                    [SegmenterJob.Section + ":Threads"] = parse.GetValue(threads).ToString(CultureInfo.InvariantCulture),
                    [SegmenterJob.Section + ":WriteGeoJson"] = "false",
                };
                if (parse.GetValue(model) is { } m) settings[SegmenterJob.Section + ":ModelPath"] = Path.GetFullPath(m);
                var config = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
                var paths = Enumerable.Range(0, n + 1).Select(i => PhantomWriter.Write(new PhantomOptions { Width = parse.GetValue(size), Height = parse.GetValue(size), Seed = i + 1, TissueFraction = 1.0, Mpp = 0.5 }, dir).Slide).ToList();
                using var quiet = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning).AddSimpleConsole(o => o.SingleLine = true));

                var sw = Stopwatch.StartNew();
                using var inProcess = SegmenterJob.Create(config, quiet);
                double loadSeconds = sw.Elapsed.TotalSeconds;
                sw.Restart();
                using var isolated = IsolatedSlideJob.Create(config, quiet);
                double workerStartSeconds = sw.Elapsed.TotalSeconds;

                // The first slide of each warms caches and code paths; then the two jobs take turns.
                await inProcess.RunAsync(paths[0], Path.Combine(dir, "warm-a"), null, token);
                await isolated.RunAsync(paths[0], Path.Combine(dir, "warm-b"), null, token);
                var a = new List<double>();
                var b = new List<double>();
                var protocol = new List<double>();
                for (int i = 1; i <= n; i++)
                {
                    a.Add(await TimeAsync(() => inProcess.RunAsync(paths[i], Path.Combine(dir, $"a{i}"), null, token)));
                    b.Add(await TimeAsync(() => isolated.RunAsync(paths[i], Path.Combine(dir, $"b{i}"), null, token)));
                    protocol.Add(isolated.LastProtocolSeconds);
                }
                double ma = BenchTiming.Median(a), mb = BenchTiming.Median(b);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"bench isolation: {n} slides of {parse.GetValue(size)}² px at 0.5 µm/px, tile 256, cores {Environment.ProcessorCount}, threads {parse.GetValue(threads)} (0 = all)"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"model load in this process      {loadSeconds,8:0.000} s"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"worker start (spawn + load)     {workerStartSeconds,8:0.000} s   (the worker's own count to ready: {isolated.LastStartSeconds:0.000} s)"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"per slide, in process (median)  {ma,8:0.000} s   min {a.Min():0.000} max {a.Max():0.000}"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"per slide, in worker (median)   {mb,8:0.000} s   min {b.Min():0.000} max {b.Max():0.000}"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"difference per slide            {mb - ma,8:0.000} s   (worker - in process; on a busy machine mostly the neighbours)"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"process boundary per slide      {BenchTiming.Median(protocol),8:0.000} s   max {protocol.Max():0.000} (service's wall time - the worker's own)"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"worker start per slide          {workerStartSeconds / 100,8:0.000} s   over 100 slides ({workerStartSeconds:0.0} s once per worker and after each crash)"));
            }
            finally
            {
                try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
            }
            return CommandRunner.Ok;
        }));
        return cmd;
    }

    private static async Task<double> TimeAsync(Func<Task> run)
    {
        var sw = Stopwatch.StartNew();
        await run();
        return sw.Elapsed.TotalSeconds;
    }
}
