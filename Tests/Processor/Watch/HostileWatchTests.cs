using System.Text.Json;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Watch;

/// <summary>
/// `wsi-segment watch` with hostile drops: a slide whose attempts kill the worker (SIGKILL mid-slide, as a native abort
/// would) ends in failed/ after --max-crashes instead of being taken again for ever; a FIFO and a link to /dev/zero
/// are rejected without being opened while a decompression bomb and good slides are dropped with them; the service
/// stays up and stops on SIGTERM.
/// </summary>
[Collection("watch-host")]
public class HostileWatchTests
{
    private static string[] Args(WatchFixture fx) =>
        ["--inbox", fx.Folders.Inbox, "--outbox", fx.Folders.Outbox, "--model", TestModels.RandomEspNet(), "--rescan-seconds", "0.5",
         "--stable-seconds", "0.5", "--device", "cpu", "--threads", "1", "--tile", "256", "--overlap", "32", "--no-geojson", "--max-crashes", "2"];

    /// <summary>The worker <paramref name="pid"/> has recorded an attempt on the slide in its claim (not a dead one's claim).</summary>
    private static bool AttemptUnderWay(WatchFixture fx, string slide, int pid)
    {
        try
        {
            using var claim = JsonDocument.Parse(File.ReadAllText(Path.Combine(fx.Folders.Claims, slide + ".claim")));
            return claim.RootElement.GetProperty("pid").GetInt32() == pid
                && claim.RootElement.TryGetProperty("attemptStartedUtc", out var started) && started.ValueKind == JsonValueKind.String;
        }
        catch (Exception e) when (e is IOException or JsonException) { return false; }
    }

    [SharedFact]
    public async Task A_slide_that_kills_its_worker_is_failed_after_max_crashes_and_odd_entries_do_not_stop_the_others()
    {
        using var fx = new WatchFixture();
        TestSlides.WriteTiledTiff(fx.Inbox("poison.tif"), size: 3072, seed: 5);
        for (int crash = 1; crash <= 2; crash++)
        {
            using var w = WatchProcess.Start([.. Args(fx), "--mpp", "0.5"]);
            await InProcessWatch.WaitUntil(() => AttemptUnderWay(fx, "poison.tif", w.Pid), TimeSpan.FromSeconds(90), () => $"attempt {crash} recorded in the claim\n" + w.Log);
            w.KillHard();
            Assert.True(w.WaitForExit(TimeSpan.FromSeconds(20)));
        }

        using var watch = WatchProcess.Start(Args(fx));
        string poisonError = Path.Combine(fx.Folders.Failed, "poison.error.json");
        await InProcessWatch.WaitUntil(() => File.Exists(poisonError), TimeSpan.FromSeconds(60), () => "poison failed\n" + watch.Log);
        using (var error = JsonDocument.Parse(File.ReadAllText(poisonError)))
        {
            Assert.Equal("crash", error.RootElement.GetProperty("kind").GetString());
            Assert.Contains("crashed the worker 2 time(s)", error.RootElement.GetProperty("reason").GetString());
            Assert.Equal(2, error.RootElement.GetProperty("attempts").GetInt32());
        }
        Assert.True(File.Exists(Path.Combine(fx.Folders.Failed, "poison.tif")));

        // Odd entries and a bomb dropped together with three good slides.
        if (OperatingSystem.IsLinux()) Assert.Equal(0, Tool.Run("mkfifo", [fx.Inbox("pipe.svs")]).ExitCode);
        File.CreateSymbolicLink(fx.Inbox("zeros.svs"), "/dev/zero");
        string bombSource = Path.Combine(fx.Root, "bomb-src");
        WsiSegment.Tests.Corpus.BadInputCorpus.Build(bombSource, Repo.SharedSlides);
        File.Copy(Path.Combine(bombSource, "bomb-65500.jpg"), fx.Inbox("bomb.jpg"));
        for (int i = 1; i <= 3; i++) TestSlides.WriteTiledTiff(fx.Inbox($"good{i}.tif"), seed: i);

        await InProcessWatch.WaitUntil(() => Directory.GetFiles(fx.Folders.Done).Length == 3 && Directory.GetFiles(fx.Folders.Failed, "*.error.json").Length == 4,
            TimeSpan.FromSeconds(120), () => "3 done, 4 failed\n" + watch.Log);
        Assert.False(watch.HasExited, watch.Log);
        Assert.Equal(["good1.tif", "good2.tif", "good3.tif"], Directory.GetFiles(fx.Folders.Done).Select(Path.GetFileName).Order());
        string Reason(string stem) => JsonDocument.Parse(File.ReadAllText(Path.Combine(fx.Folders.Failed, stem + ".error.json"))).RootElement.GetProperty("reason").GetString()!;
        Assert.Contains("FIFO", Reason("pipe"));
        Assert.Contains("character device", Reason("zeros"));
        Assert.Contains("refused before decoding", Reason("bomb"));
        // The odd entries moved, never opened: still a FIFO and still a link.
        Assert.True(new FileInfo(Path.Combine(fx.Folders.Failed, "zeros.svs")).LinkTarget == "/dev/zero");
        // Each good slide done exactly once; the rejections are recorded once each.
        string summary = File.ReadAllText(Path.Combine(fx.Folders.Outbox, "summary.csv"));
        foreach (var name in new[] { "good1.tif", "good2.tif", "good3.tif", "pipe.svs", "zeros.svs", "bomb.jpg" })
            Assert.Equal(1, summary.Split('\n').Count(l => l.Contains(name, StringComparison.Ordinal)));

        watch.Terminate();
        Assert.True(watch.WaitForExit(TimeSpan.FromSeconds(30)), "did not stop on SIGTERM");
        Assert.Equal(0, watch.ExitCode);
    }
}
