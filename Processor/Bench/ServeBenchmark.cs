using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Segmentation;
using WsiSegment.Processor.Web;

namespace WsiSegment.Processor.Bench;

/// <summary>
/// `wsi-segment bench serve`: load test of the web view from a second process on loopback. Makes (or reuses, with
/// --work) a phantom and its segmentation, starts `serve` as a child, then sends tile requests over both layers,
/// N at a time: first every tile of the pyramids once (cold: each one rendered), then random tiles of all levels
/// (a mix of cache hits and renders of hidden-class variants). Reports requests/s, p50/p99 latency and the
/// server's peak RSS (VmHWM).
/// </summary>
public static class ServeBenchmark
{
    public static Command Create()
    {
        var size = new Option<string>("--size") { Description = "Phantom size WxH.", DefaultValueFactory = _ => "10000x12000" };
        var requests = new Option<int>("--requests") { Description = "Tile requests in all.", DefaultValueFactory = _ => 50_000 };
        var concurrency = new Option<int>("--concurrency") { Description = "Requests in flight.", DefaultValueFactory = _ => 16 };
        var work = new Option<string?>("--work") { Description = "Folder for the phantom and its outputs, reused when present (default: a temporary one, removed)." };
        var cacheMb = new Option<int>("--cache-mb") { Description = "The server's tile cache, MiB.", DefaultValueFactory = _ => 128 };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON." };
        var cmd = new Command("serve", "Load test of `serve`: tile requests from this process to a serve child on loopback; requests/s, p50/p99, peak RSS.")
            { size, requests, concurrency, work, cacheMb, json };
        cmd.SetAction((parse, ct) => CommandRunner.RunAsync(parse, "bench serve", ct, async (_, token) =>
        {
            var dims = parse.GetValue(size)!.Split('x');
            if (dims.Length != 2 || !int.TryParse(dims[0], out int w) || !int.TryParse(dims[1], out int h) || w < 256 || h < 256)
                throw new UserError($"--size {parse.GetValue(size)}: expected WxH, each at least 256");
            int total = Math.Max(1, parse.GetValue(requests)), n = Math.Clamp(parse.GetValue(concurrency), 1, 1024);
            string? keep = parse.GetValue(work);
            string dir = keep ?? Path.Combine(Path.GetTempPath(), $"wsiseg-bench-serve-{Guid.NewGuid():N}");
            try
            {
                var result = await RunAsync(dir, w, h, total, n, parse.GetValue(cacheMb), token);
                Console.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(result, JsonOutput.Options) : result.ToText());
            }
            finally
            {
                if (keep is null) try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
            }
            return CommandRunner.Ok;
        }));
        return cmd;
    }

    public sealed record Phase(string Name, int Requests, int Errors, double Seconds, double RequestsPerSecond, double P50Ms, double P99Ms, long Bytes);

    public sealed record Result(string Slide, int Width, int Height, int Concurrency, int TilesPerPass, IReadOnlyList<Phase> Phases,
        double RequestsPerSecond, double P50Ms, double P99Ms, long ServerPeakRssBytes, long ServerRssAtEndBytes, int Cores)
    {
        public string ToText() =>
            $"bench serve: {Slide} {Width}x{Height}, {Concurrency} concurrent, {Cores} cores\n" +
            string.Join("\n", Phases.Select(p => $"  {p.Name,-6} {p.Requests,7} requests ({p.Errors} errors) in {p.Seconds,6:F1} s: {p.RequestsPerSecond,8:F0} req/s, p50 {p.P50Ms:F2} ms, p99 {p.P99Ms:F2} ms, {p.Bytes / 1e6:F0} MB")) +
            $"\n  all    {RequestsPerSecond:F0} req/s, p50 {P50Ms:F2} ms, p99 {P99Ms:F2} ms; server peak RSS {ServerPeakRssBytes / 1048576.0:F0} MiB (at end {ServerRssAtEndBytes / 1048576.0:F0} MiB)";
    }

    private static async Task<Result> RunAsync(string dir, int w, int h, int total, int concurrency, int cacheMb, CancellationToken ct)
    {
        string slides = Directory.CreateDirectory(Path.Combine(dir, "slides")).FullName;
        string outDir = Directory.CreateDirectory(Path.Combine(dir, "out")).FullName;
        string slide = Path.Combine(slides, "phantom-7.tif");
        if (!File.Exists(slide))
            Check(await SelfProcess.RunAsync(["synth", slides, "--size", $"{w}x{h}", "--seed", "7"], ct), "synth");
        if (!File.Exists(Path.Combine(outDir, "phantom-7.json")))
            Check(await SelfProcess.RunAsync(["segment", slide, "-o", outDir], ct), "segment");

        var psi = SelfProcess.StartInfo(["serve", outDir, "--slides", slides, "--urls", "http://127.0.0.1:0", "--cache-mb", cacheMb.ToString(CultureInfo.InvariantCulture)]);
        using var server = Process.Start(psi) ?? throw new InvalidOperationException("cannot start wsi-segment serve");
        try
        {
            _ = server.StandardError.ReadToEndAsync(ct);
            string first = await server.StandardOutput.ReadLineAsync(ct) ?? throw new InvalidOperationException("serve ended before it listened");
            if (!first.StartsWith("serving ", StringComparison.Ordinal)) throw new InvalidOperationException("serve: " + first);
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, UseCookies = false })
                { BaseAddress = new Uri(first["serving ".Length..].Trim()), Timeout = TimeSpan.FromSeconds(60) };
            using var list = JsonDocument.Parse(await http.GetStringAsync("/api/slides", ct));
            string id = list.RootElement[0].GetProperty("id").GetString()!;
            using var detail = JsonDocument.Parse(await http.GetStringAsync($"/api/slides/{id}", ct));
            var dz = detail.RootElement.GetProperty("deepZoom");
            var geo = new DeepZoomGeometry(dz.GetProperty("width").GetInt32(), dz.GetProperty("height").GetInt32());
            int[] classes = detail.RootElement.GetProperty("classes").EnumerateArray().Select(c => c.GetProperty("id").GetInt32()).Where(c => c > 0).ToArray();

            var all = new List<string>();
            for (int level = 0; level <= geo.MaxLevel; level++)
            {
                var (lw, lh) = geo.LevelSize(level);
                for (int r = 0; r * geo.TileSize < lh; r++)
                    for (int c = 0; c * geo.TileSize < lw; c++)
                    {
                        all.Add($"/dzi/{id}/slide_files/{level}/{c}_{r}.jpeg");
                        all.Add($"/dzi/{id}/overlay_files/{level}/{c}_{r}.png");
                    }
            }
            var cold = all.Take(Math.Min(total, all.Count)).ToList();
            var random = new Random(17);
            var mixed = Enumerable.Range(0, total - cold.Count).Select(_ =>
            {
                string u = all[random.Next(all.Count)];
                // One in ten overlay requests with a class hidden, as a user toggling the legend makes.
                return u.Contains("overlay") && random.Next(10) == 0 ? u + "?hide=" + classes[random.Next(classes.Length)] : u;
            }).ToList();

            var phases = new List<Phase>();
            var latencies = new List<double>();
            foreach (var (name, urls) in new[] { ("cold", cold), ("mixed", mixed) })
                if (urls.Count > 0) phases.Add(await LoadAsync(http, name, urls, concurrency, latencies, ct));
            latencies.Sort();
            double seconds = phases.Sum(p => p.Seconds);
            var (peak, now) = Rss(server.Id);
            return new Result(Path.GetFileName(slide), geo.Width, geo.Height, concurrency, all.Count, phases,
                Math.Round(latencies.Count / seconds, 1), Math.Round(Percentile(latencies, 0.5), 3), Math.Round(Percentile(latencies, 0.99), 3),
                peak, now, Environment.ProcessorCount);
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync(CancellationToken.None);
        }
    }

    private static async Task<Phase> LoadAsync(HttpClient http, string name, List<string> urls, int concurrency, List<double> all, CancellationToken ct)
    {
        var ms = new double[urls.Count];
        int next = -1, errors = 0;
        long bytes = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            for (int i = Interlocked.Increment(ref next); i < urls.Count; i = Interlocked.Increment(ref next))
            {
                long t0 = Stopwatch.GetTimestamp();
                using var response = await http.GetAsync(urls[i], ct);
                var body = await response.Content.ReadAsByteArrayAsync(ct);
                ms[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                Interlocked.Add(ref bytes, body.Length);
                if (response.StatusCode != HttpStatusCode.OK) Interlocked.Increment(ref errors);
            }
        }));
        double seconds = clock.Elapsed.TotalSeconds;
        all.AddRange(ms);
        var sorted = ms.Order().ToList();
        return new Phase(name, urls.Count, errors, Math.Round(seconds, 2), Math.Round(urls.Count / seconds, 1), Math.Round(Percentile(sorted, 0.5), 3),
            Math.Round(Percentile(sorted, 0.99), 3), bytes);
    }

    private static double Percentile(List<double> sorted, double q) => sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)(q * sorted.Count))];

    /// <summary>VmHWM and VmRSS of another process, bytes.</summary>
    private static (long Peak, long Now) Rss(int pid)
    {
        long Field(string[] lines, string key) => lines.FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal)) is { } l
            ? long.Parse(l[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024 : 0;
        var status = File.ReadAllLines($"/proc/{pid}/status");
        return (Field(status, "VmHWM:"), Field(status, "VmRSS:"));
    }

    private static void Check(SelfProcess.Result r, string what)
    {
        if (r.ExitCode != 0) throw new UserError($"bench serve: {what} failed: {r.Stderr.Trim()}");
    }
}
