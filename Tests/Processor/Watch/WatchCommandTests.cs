using System.Globalization;
using System.Text.Json;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Watch;

/// <summary>
/// `wsi-segment watch` as a child process with the real segmenter (bundled demo model, small tiles, CPU) on real
/// files: mixed drops, SIGKILL and restart, two workers on one set of folders, SIGTERM within the grace period.
/// </summary>
[Collection("watch-host")]
public class WatchCommandTests
{
    private static readonly string[] Fast = ["--rescan-seconds", "0.5", "--device", "cpu", "--threads", "1", "--tile", "256", "--overlap", "32", "--no-geojson"];

    private static string[] Args(WatchFixture fx, params string[] extra) =>
        ["--inbox", fx.Folders.Inbox, "--outbox", fx.Folders.Outbox, "--model", TestModels.RandomEspNet(), .. Fast,
         .. extra.Contains("--stable-seconds") ? [] : new[] { "--stable-seconds", "0.5" }, .. extra];

    private static async Task WaitReady(WatchFixture fx, WatchProcess w, string statusFile = "status.json")
    {
        string status = Path.Combine(fx.Folders.Outbox, statusFile);
        await InProcessWatch.WaitUntil(() =>
        {
            if (w.HasExited) throw new InvalidOperationException("watch exited early:\n" + w.Log);
            try { return File.Exists(status) && JsonDocument.Parse(File.ReadAllText(status)).RootElement.GetProperty("worker").GetProperty("pid").GetInt32() == w.Pid; }
            catch (JsonException) { return false; }
        }, TimeSpan.FromSeconds(60), "the worker is up");
    }

    [SharedFact]
    public async Task Good_corrupt_empty_text_and_growing_slides_dropped_together()
    {
        using var fx = new WatchFixture();
        // Stable time well above the writer's pauses, so a busy machine cannot make the growing file look finished.
        using var w = WatchProcess.Start(Args(fx, "--stable-seconds", "2"));
        await WaitReady(fx, w);

        TestSlides.WriteTiledTiff(fx.Inbox("good1.tif"), seed: 1);
        File.Copy(Path.Combine(Repo.SharedSlides, "CMU-1-Small-Region.svs"), fx.Inbox("good2.svs"));
        File.Copy(Path.Combine(Repo.SharedSlides, "unreadable.svs"), fx.Inbox("corrupt.svs"));
        File.WriteAllBytes(fx.Inbox("zero.svs"), []);
        File.WriteAllText(fx.Inbox("notes.svs"), "not a slide\n");
        TestSlides.WriteTiledTiff(Path.Combine(fx.Root, "src.tif"), size: 768, seed: 3);
        var whole = File.ReadAllBytes(Path.Combine(fx.Root, "src.tif"));
        await using (var f = new FileStream(fx.Inbox("growing.tif"), FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite))
        {
            int chunk = whole.Length / 5 + 1;
            for (int off = 0; off < whole.Length; off += chunk)
            {
                f.Write(whole, off, Math.Min(chunk, whole.Length - off));
                f.Flush();
                Thread.Sleep(200);
            }
        }

        await InProcessWatch.WaitUntil(() => Directory.GetFiles(fx.Folders.Done).Length == 3 && Directory.GetFiles(fx.Folders.Failed, "*.error.json").Length == 3,
            TimeSpan.FromSeconds(90), () => "3 done and 3 failed\n" + w.Log);

        Assert.False(w.HasExited, w.Log);
        Assert.Equal(["good1.tif", "good2.svs", "growing.tif"], Directory.GetFiles(fx.Folders.Done).Select(Path.GetFileName).Order());
        foreach (var stem in new[] { "good1", "good2", "growing" })
        {
            string outDir = Path.Combine(fx.Folders.Outbox, stem);
            using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, stem + ".json")));
            string done = Directory.GetFiles(fx.Folders.Done, stem + ".*").Single();
            Assert.Equal(Sha(done), report.RootElement.GetProperty("slide").GetProperty("sha256").GetString());
            AssertValidMask(Path.Combine(outDir, stem + ".mask.tif"));
            Assert.Empty(Directory.GetDirectories(outDir));
        }
        Assert.Equal(whole.Length, new FileInfo(Path.Combine(fx.Folders.Done, "growing.tif")).Length);
        string Reason(string s) => JsonDocument.Parse(File.ReadAllText(Path.Combine(fx.Folders.Failed, s + ".error.json"))).RootElement.GetProperty("reason").GetString()!;
        Assert.Contains("decoded", Reason("corrupt"));
        Assert.Contains("empty", Reason("zero"));
        Assert.Contains("text", Reason("notes"));
        Assert.Equal(3, Regex.Count(w.Log, "service overhead"));

        w.Terminate();
        Assert.True(w.WaitForExit(TimeSpan.FromSeconds(30)), "did not stop on SIGTERM");
        Assert.Equal(0, w.ExitCode);
    }

    [Fact]
    public async Task Killed_mid_slide_then_restarted_redoes_the_slide_and_leaves_nothing_half_written()
    {
        using var fx = new WatchFixture();
        TestSlides.WriteTiledTiff(fx.Inbox("big.tif"), size: 3072);
        string outDir = Path.Combine(fx.Folders.Outbox, "big");
        using (var first = WatchProcess.Start(Args(fx, "--mpp", "0.5")))
        {
            await InProcessWatch.WaitUntil(() => Directory.Exists(outDir) && Directory.EnumerateDirectories(outDir, ".staging-*").Any(),
                TimeSpan.FromSeconds(60), () => "work started\n" + first.Log);
            first.KillHard();
            first.WaitForExit(TimeSpan.FromSeconds(10));
        }
        Assert.True(File.Exists(Path.Combine(fx.Folders.Processing, "big.tif")));
        Assert.Single(Directory.GetFiles(fx.Folders.Claims));
        Assert.False(File.Exists(Path.Combine(outDir, "big.json")));

        using var second = WatchProcess.Start(Args(fx, "--mpp", "0.5"));
        // Done first, then the claim is released (in that order, moments apart): wait for both.
        await InProcessWatch.WaitUntil(() => File.Exists(Path.Combine(fx.Folders.Done, "big.tif")) && Directory.GetFiles(fx.Folders.Claims).Length == 0,
            TimeSpan.FromSeconds(120), () => "redone and released\n" + second.Log);
        Assert.Contains("Took back the claim on big.tif", second.Log);
        Assert.True(File.Exists(Path.Combine(outDir, "big.json")));
        AssertValidMask(Path.Combine(outDir, "big.mask.tif"));
        Assert.Empty(Directory.GetDirectories(outDir));          // the killed run's staging folder is gone
        Assert.Empty(Directory.GetFileSystemEntries(fx.Folders.Processing));
        second.Terminate();
        Assert.True(second.WaitForExit(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Two_workers_on_the_same_folders_process_20_slides_exactly_once()
    {
        using var fx = new WatchFixture();
        using var a = WatchProcess.Start(Args(fx, "--status-file", "status-a.json"));
        using var b = WatchProcess.Start(Args(fx, "--status-file", "status-b.json"));
        await WaitReady(fx, a, "status-a.json");
        await WaitReady(fx, b, "status-b.json");
        string src = Path.Combine(fx.Root, "src");
        Directory.CreateDirectory(src);
        for (int i = 0; i < 20; i++)
        {
            TestSlides.WriteTiledTiff(Path.Combine(src, $"s{i:00}.tif"), seed: i + 1);
            File.Move(Path.Combine(src, $"s{i:00}.tif"), fx.Inbox($"s{i:00}.tif")); // arrives whole, as a rename would
        }
        await InProcessWatch.WaitUntil(() => Directory.GetFiles(fx.Folders.Done).Length == 20, TimeSpan.FromSeconds(120), () => "20 done\nA:\n" + a.Log + "\nB:\n" + b.Log);
        await Task.Delay(1500); // a duplicate would show up now

        Assert.Empty(Directory.GetDirectories(fx.Folders.Done)); // a second copy of a name would go to a dated sub-folder
        var rows = File.ReadAllLines(Path.Combine(fx.Folders.Outbox, "summary.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(20, rows.Count);
        Assert.All(rows, r => Assert.Equal("done", r[2]));
        Assert.Equal(20, rows.Select(r => r[1]).Distinct().Count());
        int byA = Regex.Count(a.Log, "service overhead"), byB = Regex.Count(b.Log, "service overhead");
        Assert.Equal(20, byA + byB);
        Assert.True(byA > 0 && byB > 0, $"both workers should share the work (a {byA}, b {byB})");
        for (int i = 0; i < 20; i++) Assert.True(File.Exists(Path.Combine(fx.Folders.Outbox, $"s{i:00}", $"s{i:00}.json")));

        var overheads = rows.Select(r => double.Parse(r[5], CultureInfo.InvariantCulture)).ToList();
        var seconds = rows.Select(r => double.Parse(r[4], CultureInfo.InvariantCulture)).ToList();
        Console.WriteLine($"watch overhead per slide: mean {overheads.Average():0.000}s max {overheads.Max():0.000}s; segment mean {seconds.Average():0.000}s");
        Assert.True(overheads.Max() < 1.0, $"service overhead per slide up to {overheads.Max():0.000}s");

        a.Terminate();
        b.Terminate();
        Assert.True(a.WaitForExit(TimeSpan.FromSeconds(30)) && b.WaitForExit(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Sigterm_mid_slide_exits_cleanly_within_the_grace_and_puts_the_slide_back()
    {
        using var fx = new WatchFixture();
        TestSlides.WriteTiledTiff(fx.Inbox("big.tif"), size: 3072);
        string outDir = Path.Combine(fx.Folders.Outbox, "big");
        using var w = WatchProcess.Start(Args(fx, "--mpp", "0.5", "--grace-seconds", "1"));
        await InProcessWatch.WaitUntil(() => Directory.Exists(outDir) && Directory.EnumerateDirectories(outDir, ".staging-*").Any(),
            TimeSpan.FromSeconds(60), () => "work started\n" + w.Log);

        var sw = System.Diagnostics.Stopwatch.StartNew();
        w.Terminate();
        Assert.True(w.WaitForExit(TimeSpan.FromSeconds(30)), "did not exit\n" + w.Log);
        // Grace 1 s; the margin is for a loaded machine. That the slide was abandoned, not finished, is asserted below.
        Assert.True(sw.Elapsed.TotalSeconds < 1 + 12, $"took {sw.Elapsed.TotalSeconds:0.0}s to stop");
        Assert.Equal(0, w.ExitCode);
        Assert.True(File.Exists(fx.Inbox("big.tif")), "slide back in the inbox\n" + w.Log);
        Assert.Empty(Directory.GetFileSystemEntries(outDir));
        Assert.Empty(Directory.GetFiles(fx.Folders.Claims));
        Assert.Empty(Directory.GetFileSystemEntries(fx.Folders.Processing));
        Assert.Contains("Abandoned big.tif", w.Log);
    }

    private static void AssertValidMask(string path)
    {
        var r = Tool.Run(Tool.Require("tiffinfo", "libtiff-tools"), [path]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("Tile Width", r.Stdout);
    }

    private static string Sha(string path) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));

    private static class Regex
    {
        public static int Count(string text, string what) => System.Text.RegularExpressions.Regex.Count(text, System.Text.RegularExpressions.Regex.Escape(what));
    }
}
