using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Options;
using WsiSegment.Processor.Watch;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Watch;

/// <summary>The worker in the real host with real files; the job is <see cref="ReadingJob"/> (the model-backed job is tested in WatchCommandTests).</summary>
[Collection("watch-host")]
public class SlideWatchWorkerTests
{
    [SharedFact]
    public async Task Good_bad_and_growing_files_dropped_together_end_where_they_belong()
    {
        using var fx = new WatchFixture();
        var job = new ReadingJob(TimeSpan.FromMilliseconds(100));
        // Stable time well above the writer's pauses, so a busy machine cannot make the growing file look finished.
        await using var watch = await InProcessWatch.StartAsync(InProcessWatch.Settings(fx, ("StableSeconds", "1.5")), job);

        TestSlides.WriteTiledTiff(fx.Inbox("good1.tif"), seed: 1);
        TestSlides.WriteTiledTiff(fx.Inbox("good2.tif"), seed: 2);
        File.Copy(Path.Combine(Repo.SharedSlides, "unreadable.svs"), fx.Inbox("corrupt.svs"));
        File.WriteAllBytes(fx.Inbox("zero.svs"), []);
        File.WriteAllText(fx.Inbox("notes.svs"), "not a slide\n");
        TestSlides.WriteTiledTiff(fx.Root + "/growing-src.tif", seed: 3);
        var whole = File.ReadAllBytes(fx.Root + "/growing-src.tif");
        var growing = new TaskCompletionSource();
        new Thread(() =>
        {
            using (var f = new FileStream(fx.Inbox("growing.tif"), FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite))
            {
                for (int off = 0; off < whole.Length; off += whole.Length / 6 + 1)
                {
                    f.Write(whole, off, Math.Min(whole.Length / 6 + 1, whole.Length - off));
                    f.Flush();
                    Thread.Sleep(150);
                }
            }
            growing.SetResult();
        }).Start();
        var grower = growing.Task;

        await InProcessWatch.WaitUntil(() => Directory.GetFiles(fx.Folders.Done).Length == 3 && Directory.GetFiles(fx.Folders.Failed, "*.error.json").Length == 3,
            TimeSpan.FromSeconds(60), "3 done and 3 failed");
        await grower;

        Assert.Equal(["good1.tif", "good2.tif", "growing.tif"], Directory.GetFiles(fx.Folders.Done).Select(Path.GetFileName).Order());
        Assert.Equal(3, job.Runs - 1); // three good ones once each, plus the corrupt one's single attempt
        foreach (var stem in new[] { "good1", "good2", "growing" })
        {
            using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(fx.Folders.Outbox, stem, stem + ".json")));
            Assert.Equal(Sha(Path.Combine(fx.Folders.Done, stem + ".tif")), report.RootElement.GetProperty("slide").GetProperty("sha256").GetString());
        }
        Assert.Equal(whole.Length, new FileInfo(Path.Combine(fx.Folders.Done, "growing.tif")).Length);

        var reasons = new[] { "corrupt", "zero", "notes" }.ToDictionary(s => s, s =>
            JsonDocument.Parse(File.ReadAllText(Path.Combine(fx.Folders.Failed, s + ".error.json"))).RootElement);
        Assert.Equal("CorruptSlideException", reasons["corrupt"].GetProperty("exceptionType").GetString());
        Assert.Equal(1, reasons["corrupt"].GetProperty("attempts").GetInt32());
        Assert.Equal("empty file (0 bytes)", reasons["zero"].GetProperty("reason").GetString());
        Assert.Equal("sniff", reasons["notes"].GetProperty("stage").GetString());
        Assert.False(Directory.Exists(Path.Combine(fx.Folders.Outbox, "corrupt")) && Directory.EnumerateFileSystemEntries(Path.Combine(fx.Folders.Outbox, "corrupt")).Any());

        var summary = File.ReadAllLines(Path.Combine(fx.Folders.Outbox, "summary.csv"));
        Assert.Equal(7, summary.Length);
        Assert.Equal(3, summary.Count(l => l.Contains(",done,")));
        Assert.Equal(3, summary.Count(l => l.Contains(",failed,")));

        // Still running: a later slide is taken too.
        TestSlides.WriteTiledTiff(fx.Inbox("later.tif"), seed: 4);
        await InProcessWatch.WaitUntil(() => File.Exists(Path.Combine(fx.Folders.Done, "later.tif")), TimeSpan.FromSeconds(30), "the later slide is done");
        // status.json is rewritten just after the slide is moved: give it that moment (a loaded machine showed 3).
        string statusPath = Path.Combine(fx.Folders.Outbox, "status.json");
        await InProcessWatch.WaitUntil(() => DoneCount(statusPath) == 4, TimeSpan.FromSeconds(10), "status.json counts the later slide");
        using var status = JsonDocument.Parse(File.ReadAllText(statusPath));
        Assert.Equal(4, status.RootElement.GetProperty("counts").GetProperty("done").GetInt32());
        Assert.Equal(3, status.RootElement.GetProperty("counts").GetProperty("failed").GetInt32());
        // The claim is released last, after the status is written and the lease stopped: wait for it as well.
        await InProcessWatch.WaitUntil(() => Directory.GetFiles(fx.Folders.Claims).Length == 0, TimeSpan.FromSeconds(10), "the later slide's claim is released");
        Assert.Empty(Directory.GetFileSystemEntries(fx.Folders.Processing));
    }

    [Fact]
    public async Task A_slide_arriving_during_a_long_one_is_proven_stable_meanwhile_and_taken_right_after()
    {
        using var fx = new WatchFixture();
        // The stable time is long against the gap allowed, so a slide that waited for it after the first would fail
        // even on a loaded machine, and one proven stable meanwhile passes with seconds to spare.
        var job = new ReadingJob(TimeSpan.FromSeconds(7));
        var settings = InProcessWatch.Settings(fx, ("StableSeconds", "4"), ("GraceSeconds", "0"));
        await using var watch = await InProcessWatch.StartAsync(settings, job);
        TestSlides.WriteTiledTiff(fx.Inbox("first.tif"), seed: 1);
        await InProcessWatch.WaitUntil(() => Directory.Exists(Path.Combine(fx.Folders.Outbox, "first")), TimeSpan.FromSeconds(30), "first started");
        TestSlides.WriteTiledTiff(fx.Inbox("second.tif"), seed: 2);
        await InProcessWatch.WaitUntil(() => File.Exists(Path.Combine(fx.Folders.Outbox, "first", "first.json")), TimeSpan.FromSeconds(30), "first done");
        var firstDone = DateTime.UtcNow;
        await InProcessWatch.WaitUntil(() => Directory.Exists(Path.Combine(fx.Folders.Outbox, "second")), TimeSpan.FromSeconds(30), "second started");
        var gap = DateTime.UtcNow - firstDone;
        Assert.True(gap < TimeSpan.FromSeconds(3), $"second slide started {gap.TotalSeconds:0.00}s after the first finished (stable time 4 s)");
    }

    [Fact]
    public async Task Transient_errors_are_retried_and_counted()
    {
        using var fx = new WatchFixture();
        var job = new ReadingJob(TimeSpan.Zero, ioFailures: 2);
        await using var watch = await InProcessWatch.StartAsync(InProcessWatch.Settings(fx, ("MaxAttempts", "3")), job);
        TestSlides.WriteTiledTiff(fx.Inbox("flaky.tif"));
        await InProcessWatch.WaitUntil(() => File.Exists(Path.Combine(fx.Folders.Done, "flaky.tif")), TimeSpan.FromSeconds(30), "done after retries");
        Assert.Equal(3, job.Runs);
        Assert.Contains(",flaky.tif,done,3,", File.ReadAllText(Path.Combine(fx.Folders.Outbox, "summary.csv")));
    }

    [Fact]
    public async Task Transient_errors_beyond_the_limit_fail_with_the_attempts_recorded()
    {
        using var fx = new WatchFixture();
        var job = new ReadingJob(TimeSpan.Zero, ioFailures: 5);
        await using var watch = await InProcessWatch.StartAsync(InProcessWatch.Settings(fx, ("MaxAttempts", "2")), job);
        TestSlides.WriteTiledTiff(fx.Inbox("bad-disk.tif"));
        string error = Path.Combine(fx.Folders.Failed, "bad-disk.error.json");
        await InProcessWatch.WaitUntil(() => File.Exists(error), TimeSpan.FromSeconds(30), "failed after 2 attempts");
        using var doc = JsonDocument.Parse(File.ReadAllText(error));
        Assert.Equal(2, doc.RootElement.GetProperty("attempts").GetInt32());
        Assert.Equal("IOException", doc.RootElement.GetProperty("exceptionType").GetString());
        Assert.Equal("transient", doc.RootElement.GetProperty("kind").GetString());
        Assert.Equal(2, job.Runs);
    }

    [Fact]
    public async Task Stopping_mid_slide_past_the_grace_cancels_it_cleanly_and_puts_it_back()
    {
        using var fx = new WatchFixture();
        var job = new ReadingJob(TimeSpan.FromSeconds(30));
        var watch = await InProcessWatch.StartAsync(InProcessWatch.Settings(fx, ("GraceSeconds", "1")), job);
        TestSlides.WriteTiledTiff(fx.Inbox("long.tif"));
        string outDir = Path.Combine(fx.Folders.Outbox, "long");
        await InProcessWatch.WaitUntil(() => Directory.Exists(outDir) && Directory.EnumerateDirectories(outDir, ".staging-*").Any(), TimeSpan.FromSeconds(30), "work started");

        var sw = Stopwatch.StartNew();
        await watch.StopAsync();
        Assert.InRange(sw.Elapsed.TotalSeconds, 0.9, 12); // grace 1 s, the job would take 30 s
        await watch.DisposeAsync();

        Assert.True(File.Exists(fx.Inbox("long.tif")), "the slide is back in the inbox");
        Assert.Empty(Directory.GetFileSystemEntries(outDir));
        Assert.Empty(Directory.GetFiles(fx.Folders.Claims));
        Assert.Empty(Directory.GetFileSystemEntries(fx.Folders.Processing));
        using var status = JsonDocument.Parse(File.ReadAllText(Path.Combine(fx.Folders.Outbox, "status.json")));
        Assert.Equal("stopped", status.RootElement.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Stopping_mid_slide_within_the_grace_lets_it_finish()
    {
        using var fx = new WatchFixture();
        var job = new ReadingJob(TimeSpan.FromSeconds(2));
        var watch = await InProcessWatch.StartAsync(InProcessWatch.Settings(fx, ("GraceSeconds", "20")), job);
        TestSlides.WriteTiledTiff(fx.Inbox("short.tif"));
        string outDir = Path.Combine(fx.Folders.Outbox, "short");
        await InProcessWatch.WaitUntil(() => Directory.Exists(outDir) && Directory.EnumerateDirectories(outDir, ".staging-*").Any(), TimeSpan.FromSeconds(30), "work started");
        await watch.StopAsync();
        await watch.DisposeAsync();
        Assert.True(File.Exists(Path.Combine(fx.Folders.Done, "short.tif")));
        Assert.True(File.Exists(Path.Combine(outDir, "short.json")));
    }

    [Fact]
    public async Task Outputs_with_the_same_slide_and_model_hash_are_not_redone_unless_forced()
    {
        using var fx = new WatchFixture();
        TestSlides.WriteTiledTiff(fx.Root + "/s.tif");
        var job = new ReadingJob(TimeSpan.Zero);
        await using (await InProcessWatch.StartAsync(InProcessWatch.Settings(fx), job))
        {
            File.Copy(fx.Root + "/s.tif", fx.Inbox("s.tif"));
            await InProcessWatch.WaitUntil(() => File.Exists(Path.Combine(fx.Folders.Done, "s.tif")), TimeSpan.FromSeconds(30), "first run");
            File.Copy(fx.Root + "/s.tif", fx.Inbox("s.tif"));
            await InProcessWatch.WaitUntil(() => Directory.GetFiles(fx.Folders.Done, "s.tif", SearchOption.AllDirectories).Length == 2, TimeSpan.FromSeconds(30), "second drop handled");
            Assert.Equal(1, job.Runs);
            Assert.Contains(",s.tif,skipped,", File.ReadAllText(Path.Combine(fx.Folders.Outbox, "summary.csv")));
        }
        var forcedJob = new ReadingJob(TimeSpan.Zero);
        await using (await InProcessWatch.StartAsync(InProcessWatch.Settings(fx, ("Force", "true")), forcedJob))
        {
            File.Copy(fx.Root + "/s.tif", fx.Inbox("s.tif"));
            await InProcessWatch.WaitUntil(() => Directory.GetFiles(fx.Folders.Done, "s.tif", SearchOption.AllDirectories).Length == 3, TimeSpan.FromSeconds(30), "forced run");
            Assert.Equal(1, forcedJob.Runs);
        }
        var otherModel = new ReadingJob(TimeSpan.Zero, modelHash: "test-model-2");
        await using (await InProcessWatch.StartAsync(InProcessWatch.Settings(fx), otherModel))
        {
            File.Copy(fx.Root + "/s.tif", fx.Inbox("s.tif"));
            await InProcessWatch.WaitUntil(() => Directory.GetFiles(fx.Folders.Done, "s.tif", SearchOption.AllDirectories).Length == 4, TimeSpan.FromSeconds(30), "run with another model");
            Assert.Equal(1, otherModel.Runs);
        }
    }

    [Fact]
    public async Task Slides_left_in_place_are_done_once_and_not_taken_again()
    {
        using var fx = new WatchFixture();
        var job = new ReadingJob(TimeSpan.Zero);
        await using var watch = await InProcessWatch.StartAsync(InProcessWatch.Settings(fx, ("LeaveInPlace", "true")), job);
        TestSlides.WriteTiledTiff(fx.Inbox("stay.tif"));
        await InProcessWatch.WaitUntil(() => File.Exists(Path.Combine(fx.Folders.Outbox, "stay", "stay.json")), TimeSpan.FromSeconds(30), "done");
        await Task.Delay(2000); // several rescans
        Assert.True(File.Exists(fx.Inbox("stay.tif")));
        Assert.Equal(1, job.Runs);
        Assert.Empty(Directory.GetFiles(fx.Folders.Done));
    }

    [Fact]
    public async Task Prometheus_endpoint_counts_outcomes_and_queue()
    {
        using var fx = new WatchFixture();
        var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        int port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        await using var watch = await InProcessWatch.StartAsync(InProcessWatch.Settings(fx, ("MetricsPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture))), new ReadingJob(TimeSpan.Zero));
        TestSlides.WriteTiledTiff(fx.Inbox("m.tif"));
        File.WriteAllText(fx.Inbox("m.txt"), "text");
        await InProcessWatch.WaitUntil(() => File.Exists(Path.Combine(fx.Folders.Done, "m.tif")) && File.Exists(Path.Combine(fx.Folders.Failed, "m.error.json")),
            TimeSpan.FromSeconds(30), "both handled");
        using var http = new HttpClient();
        string text = await http.GetStringAsync($"http://localhost:{port}/metrics");
        Assert.Contains("wsisegment_watch_slides_total{outcome=\"done\"} 1", text);
        Assert.Contains("wsisegment_watch_slides_total{outcome=\"failed\"} 1", text);
        Assert.Contains("wsisegment_watch_queue_slides 0", text);
        Assert.Contains("wsisegment_watch_slide_seconds_count 1", text);
    }

    [Fact]
    public async Task Bad_settings_stop_the_host_at_start_naming_each()
    {
        using var fx = new WatchFixture();
        var settings = InProcessWatch.Settings(fx, ("StableSeconds", "-1"), ("MaxAttempts", "0"));
        settings["Watch:Outbox"] = Path.Combine(fx.Folders.Inbox, "out");
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => InProcessWatch.StartAsync(settings, new ReadingJob(TimeSpan.Zero)));
        Assert.Contains("StableSeconds", e.Message);
        Assert.Contains("MaxAttempts", e.Message);
        Assert.Contains("must not be inside the inbox", e.Message);
    }

    private static string Sha(string path) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));

    private static int DoneCount(string statusPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(statusPath));
            return doc.RootElement.GetProperty("counts").GetProperty("done").GetInt32();
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return -1; // being replaced right now
        }
    }
}
