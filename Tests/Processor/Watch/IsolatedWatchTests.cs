using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using WsiSegment.Processor.Watch.Isolation;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Watch;

/// <summary>
/// `wsi-segment watch` with each slide in a supervised worker process (the default): a slide whose worker dies
/// natively (a real SIGABRT from libc abort(), through the test seam) or is SIGKILLed mid-slide costs that worker, not
/// the service; crashes are counted, a new worker takes over, and the service stops on SIGTERM within its grace period.
/// </summary>
[Collection("watch-host")]
public partial class IsolatedWatchTests
{
    private const int GraceSeconds = 10;

    private static string[] Args(WatchFixture fx, params string[] extra) =>
        ["--inbox", fx.Folders.Inbox, "--outbox", fx.Folders.Outbox, "--model", TestModels.RandomEspNet(), "--rescan-seconds", "0.5",
         "--stable-seconds", "0.5", "--device", "cpu", "--threads", "1", "--tile", "256", "--overlap", "32", "--no-geojson",
         "--max-crashes", "2", "--grace-seconds", GraceSeconds.ToString(CultureInfo.InvariantCulture), .. extra];

    [GeneratedRegex(@"Worker process (\d+) ready")]
    private static partial Regex WorkerReady();

    private static List<int> WorkerPids(WatchProcess w) =>
        WorkerReady().Matches(w.Log).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).Distinct().ToList();

    private static async Task WaitReady(WatchFixture fx, WatchProcess w)
    {
        string status = Path.Combine(fx.Folders.Outbox, "status.json");
        await InProcessWatch.WaitUntil(() =>
        {
            if (w.HasExited) throw new InvalidOperationException("watch exited early:\n" + w.Log);
            try { return File.Exists(status) && JsonDocument.Parse(File.ReadAllText(status)).RootElement.GetProperty("worker").GetProperty("pid").GetInt32() == w.Pid; }
            catch (Exception e) when (e is IOException or JsonException) { return false; }
        }, TimeSpan.FromSeconds(90), "the service is up");
    }

    private static JsonElement ErrorOf(WatchFixture fx, string stem) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(fx.Folders.Failed, stem + ".error.json"))).RootElement;

    private static bool Alive(int pid) => File.Exists($"/proc/{pid}/stat") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);

    private static void AssertStopsWithinGrace(WatchProcess w, IEnumerable<int> workers)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        w.Terminate();
        Assert.True(w.WaitForExit(TimeSpan.FromSeconds(GraceSeconds + 20)), "did not stop on SIGTERM\n" + w.Log);
        Assert.True(sw.Elapsed.TotalSeconds < GraceSeconds, $"took {sw.Elapsed.TotalSeconds:0.0}s to stop, grace {GraceSeconds}s\n" + w.Log);
        Assert.Equal(0, w.ExitCode);
        foreach (int pid in workers) Assert.False(Alive(pid), $"worker process {pid} outlived the service");
    }

    [SharedFact]
    public async Task A_slide_that_aborts_its_worker_natively_is_failed_after_max_crashes_while_the_service_and_the_other_drops_go_on()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var fx = new WatchFixture();
        string drop = Path.Combine(fx.Root, "drop");
        Directory.CreateDirectory(drop);
        TestSlides.WriteTiledTiff(Path.Combine(drop, "poison.tif"), seed: 5);
        for (int i = 1; i <= 3; i++) TestSlides.WriteTiledTiff(Path.Combine(drop, $"good{i}.tif"), seed: i);
        File.WriteAllBytes(Path.Combine(drop, "bomb.jpg"), Corpus.BadInputCorpus.JpegBomb(fx.Root));

        using var watch = WatchProcess.Start(Args(fx), new Dictionary<string, string> { [WatchWorkerChild.CrashSeamVariable] = "poison.tif" });
        await WaitReady(fx, watch);
        // Dropped together: a FIFO (opening it would block), a decompression bomb, the poison slide and three good ones.
        Assert.Equal(0, Tool.Run("mkfifo", [fx.Inbox("pipe.svs")]).ExitCode);
        foreach (var f in Directory.GetFiles(drop)) File.Move(f, fx.Inbox(Path.GetFileName(f)));

        await InProcessWatch.WaitUntil(() => Directory.GetFiles(fx.Folders.Done).Length == 3 && Directory.GetFiles(fx.Folders.Failed, "*.error.json").Length == 3,
            TimeSpan.FromSeconds(240), () => "3 done, 3 failed\n" + watch.Log);
        Assert.False(watch.HasExited, watch.Log);

        // The poison slide: two real SIGABRTs of its worker, then failed/ with the signal and the stage it died in.
        var poison = ErrorOf(fx, "poison");
        Assert.Equal("crash", poison.GetProperty("kind").GetString());
        Assert.Equal("WorkerCrashed", poison.GetProperty("exceptionType").GetString());
        Assert.Equal(2, poison.GetProperty("attempts").GetInt32());
        Assert.Equal("segmenting", poison.GetProperty("stage").GetString());
        string reason = poison.GetProperty("reason").GetString()!;
        Assert.Contains("crashed the worker 2 time(s)", reason);
        Assert.Contains("killed by SIGABRT", reason);
        Assert.Contains("during segmenting", reason);
        Assert.True(File.Exists(Path.Combine(fx.Folders.Failed, "poison.tif")));
        Assert.Contains("poison.tif: the worker process was killed by SIGABRT", watch.Log);
        Assert.Contains("1 of 2 crashes allowed", watch.Log);
        Assert.Contains("Failed poison.tif during segmenting after 2 attempt(s)", watch.Log);
        Assert.False(File.Exists(Path.Combine(fx.Folders.Claims, "poison.tif.crashes.json")), "the crash ledger is cleared once the slide has left");
        Assert.False(Directory.Exists(Path.Combine(fx.Folders.Outbox, "poison")), "nothing left of the crashed attempts");
        // The first worker and one replacement per crash (started at once, so it may still be loading the model);
        // the service itself never restarted.
        await InProcessWatch.WaitUntil(() => WorkerPids(watch).Count >= 3, TimeSpan.FromSeconds(60), () => "the second replacement is up\n" + watch.Log);
        var workers = WorkerPids(watch);
        Assert.Equal(3, workers.Count);
        Assert.DoesNotContain(watch.Pid, workers);

        // The others: each good slide done exactly once, with outputs; the FIFO and the bomb recorded once, the FIFO never opened.
        Assert.Equal(["good1.tif", "good2.tif", "good3.tif"], Directory.GetFiles(fx.Folders.Done).Select(Path.GetFileName).Order());
        for (int i = 1; i <= 3; i++) Assert.True(File.Exists(Path.Combine(fx.Folders.Outbox, $"good{i}", $"good{i}.json")));
        Assert.Contains("FIFO", ErrorOf(fx, "pipe").GetProperty("reason").GetString());
        Assert.Equal("fifo", Tool.Run("stat", ["-c", "%F", Path.Combine(fx.Folders.Failed, "pipe.svs")]).Stdout.Trim());
        Assert.Contains("refused before decoding", ErrorOf(fx, "bomb").GetProperty("reason").GetString());
        string summary = File.ReadAllText(Path.Combine(fx.Folders.Outbox, "summary.csv"));
        foreach (var name in new[] { "good1.tif", "good2.tif", "good3.tif", "pipe.svs", "bomb.jpg", "poison.tif" })
            Assert.Equal(1, summary.Split('\n').Count(l => l.Contains(name, StringComparison.Ordinal)));
        Assert.Empty(Directory.GetFiles(fx.Folders.Claims, "*.claim"));

        AssertStopsWithinGrace(watch, workers);
    }

    [Fact]
    public async Task A_worker_killed_mid_slide_is_replaced_and_the_new_worker_redoes_the_slide()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var fx = new WatchFixture();
        using var watch = WatchProcess.Start(Args(fx, "--mpp", "0.5"));
        await WaitReady(fx, watch);
        TestSlides.WriteTiledTiff(Path.Combine(fx.Root, "big.tif"), size: 3072, seed: 7);
        File.Move(Path.Combine(fx.Root, "big.tif"), fx.Inbox("big.tif"));

        // The claim names the worker process doing the attempt; kill that one, mid-slide.
        int worker = 0;
        string outDir = Path.Combine(fx.Folders.Outbox, "big");
        await InProcessWatch.WaitUntil(() =>
        {
            try
            {
                using var claim = JsonDocument.Parse(File.ReadAllText(Path.Combine(fx.Folders.Claims, "big.tif.claim")));
                worker = claim.RootElement.TryGetProperty("attemptPid", out var pid) ? pid.GetInt32() : 0;
                return worker != 0 && Directory.Exists(outDir) && Directory.EnumerateDirectories(outDir, $".staging-big-{worker}-*").Any();
            }
            catch (Exception e) when (e is IOException or JsonException) { return false; }
        }, TimeSpan.FromSeconds(90), () => "the worker started on big.tif\n" + watch.Log);
        Assert.NotEqual(watch.Pid, worker);
        Assert.Equal(0, Tool.Run("kill", ["-KILL", worker.ToString(CultureInfo.InvariantCulture)]).ExitCode);

        await InProcessWatch.WaitUntil(() => File.Exists(Path.Combine(fx.Folders.Done, "big.tif")) && Directory.GetFiles(fx.Folders.Claims, "*.claim").Length == 0,
            TimeSpan.FromSeconds(240), () => "big.tif redone\n" + watch.Log);
        Assert.False(watch.HasExited);
        Assert.Contains("big.tif: the worker process was killed by SIGKILL", watch.Log);
        Assert.Contains("1 of 2 crashes allowed", watch.Log);
        Assert.True(File.Exists(Path.Combine(outDir, "big.json")));
        Assert.Empty(Directory.GetDirectories(outDir)); // the killed worker's staging folder is gone
        var rows = File.ReadAllLines(Path.Combine(fx.Folders.Outbox, "summary.csv")).Skip(1).ToList();
        Assert.Equal("done", Assert.Single(rows).Split(',')[2]);
        Assert.False(File.Exists(Path.Combine(fx.Folders.Claims, "big.tif.crashes.json")));
        var workers = WorkerPids(watch);
        Assert.Equal(2, workers.Count);
        Assert.Contains(worker, workers);

        AssertStopsWithinGrace(watch, workers);
    }

    [Fact]
    public async Task A_worker_that_cannot_start_is_retried_with_a_pause_and_the_waiting_slide_is_neither_charged_nor_failed()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var fx = new WatchFixture();
        string model = Path.Combine(fx.Root, "model.safetensors"), moved = model + ".away";
        File.Copy(TestModels.RandomEspNet(), model);
        var args = Args(fx);
        args[Array.IndexOf(args, "--model") + 1] = model;
        using var watch = WatchProcess.Start(args);
        await WaitReady(fx, watch);
        // The service's log reaches the test through a pipe, so its worker line may trail status.json.
        await InProcessWatch.WaitUntil(() => WorkerPids(watch).Count == 1, TimeSpan.FromSeconds(30), () => "the first worker's log line\n" + watch.Log);
        int first = Assert.Single(WorkerPids(watch));

        // The model goes away and the idle worker dies: its replacement cannot load the model.
        File.Move(model, moved);
        Assert.Equal(0, Tool.Run("kill", ["-KILL", first.ToString(CultureInfo.InvariantCulture)]).ExitCode);
        TestSlides.WriteTiledTiff(Path.Combine(fx.Root, "one.tif"), seed: 3);
        File.Move(Path.Combine(fx.Root, "one.tif"), fx.Inbox("one.tif"));
        await InProcessWatch.WaitUntil(() => watch.Log.Contains("could not start (2 time(s) in a row)", StringComparison.Ordinal),
            TimeSpan.FromSeconds(90), () => "two failed starts\n" + watch.Log);
        Assert.Contains("trying again in 2s", watch.Log);
        Assert.False(watch.HasExited, watch.Log);
        Assert.Empty(Directory.GetFiles(fx.Folders.Failed));
        Assert.Empty(Directory.GetFiles(fx.Folders.Done));
        Assert.DoesNotContain("retrying in", watch.Log); // no attempt of the slide was spent

        // The model is back: the next try starts a worker, and the slide is done on its first attempt.
        File.Move(moved, model);
        await InProcessWatch.WaitUntil(() => File.Exists(Path.Combine(fx.Folders.Done, "one.tif")) && Directory.GetFiles(fx.Folders.Claims, "*.claim").Length == 0,
            TimeSpan.FromSeconds(120), () => "one.tif done\n" + watch.Log);
        var row = Assert.Single(File.ReadAllLines(Path.Combine(fx.Folders.Outbox, "summary.csv")).Skip(1)).Split(',');
        Assert.Equal(("done", "1"), (row[2], row[3]));
        Assert.Empty(Directory.GetFiles(fx.Folders.Failed));
        var workers = WorkerPids(watch);
        Assert.Equal(2, workers.Count);
        AssertStopsWithinGrace(watch, workers);
    }

    [Fact]
    public async Task Isolation_none_segments_in_the_service_process_and_a_bad_value_is_refused()
    {
        using var fx = new WatchFixture();
        var bad = Tool.WsiSegment(["watch", .. Args(fx, "--isolation", "thread")]);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("Watch:Isolation must be process or none", bad.Stderr);

        using var watch = WatchProcess.Start(Args(fx, "--isolation", "none"));
        await WaitReady(fx, watch);
        TestSlides.WriteTiledTiff(Path.Combine(fx.Root, "one.tif"), seed: 3);
        File.Move(Path.Combine(fx.Root, "one.tif"), fx.Inbox("one.tif"));
        await InProcessWatch.WaitUntil(() => File.Exists(Path.Combine(fx.Folders.Done, "one.tif")), TimeSpan.FromSeconds(120), () => "one.tif done\n" + watch.Log);
        Assert.Empty(WorkerPids(watch));
        Assert.DoesNotContain("Process isolation", watch.Log);
        AssertStopsWithinGrace(watch, []);
    }
}
