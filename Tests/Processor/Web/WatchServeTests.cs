using System.Text.Json;
using Microsoft.Playwright;
using WsiSegment.Tests.Support;
using WsiSegment.Tests.Processor.Watch;

namespace WsiSegment.Tests.Processor.Web;

/// <summary>`watch --serve`: the index shows the service's counts and failures and follows new results live.</summary>
public class WatchServeTests
{
    [BrowserFact]
    public async Task Watch_serves_the_index_with_counts_failures_and_live_updates()
    {
        using var dir = new TempDir("watch-serve");
        string inbox = Directory.CreateDirectory(dir.File("inbox")).FullName, outbox = dir.File("outbox");
        using var w = WatchProcess.Start(["--inbox", inbox, "--outbox", outbox, "--model", TestModels.RandomEspNet(),
            "--stable-seconds", "0.5", "--rescan-seconds", "0.5", "--device", "cpu", "--threads", "1", "--tile", "256", "--overlap", "32",
            "--serve", "--urls", "http://127.0.0.1:0"]);
        await InProcessWatch.WaitUntil(() => w.Log.Contains("serving http://"), TimeSpan.FromSeconds(60), () => "serving line\n" + w.Log);
        string url = w.Log.Split('\n').First(l => l.StartsWith("serving http://", StringComparison.Ordinal))["serving ".Length..].Trim();
        using var http = new HttpClient { BaseAddress = new Uri(url) };

        TestSlides.WriteTiledTiff(Path.Combine(inbox, "good.tif"), seed: 1);
        File.WriteAllText(Path.Combine(inbox, "notes.tif"), "not a slide\n");
        await WaitForCounts(http, w, done: 1, failed: 1);

        await using var b = await Browser.OpenAsync();
        await b.Page.GotoAsync(url + "/");
        await Assertions.Expect(b.Page.Locator("#watch")).ToBeVisibleAsync();
        await Assertions.Expect(b.Page.Locator("#slides tbody tr")).ToHaveCountAsync(1);
        await Assertions.Expect(b.Page.Locator("#workers")).ToContainTextAsync("done 1, failed 1");
        var failed = b.Page.Locator("#failed li");
        await Assertions.Expect(failed).ToHaveCountAsync(1);
        await Assertions.Expect(failed).ToContainTextAsync("notes.tif");
        using (var status = JsonDocument.Parse(await http.GetStringAsync("/api/status")))
        {
            string reason = status.RootElement.GetProperty("failed")[0].GetProperty("reason").GetString()!;
            Assert.False(string.IsNullOrWhiteSpace(reason));
            await Assertions.Expect(failed).ToContainTextAsync(reason);
        }

        // Live: a second slide appears in the open page without a reload (server-sent events).
        TestSlides.WriteTiledTiff(Path.Combine(inbox, "good2.tif"), seed: 2);
        await Assertions.Expect(b.Page.Locator("#slides tbody tr")).ToHaveCountAsync(2, new() { Timeout = 120_000 });
        await Assertions.Expect(b.Page.Locator("#workers")).ToContainTextAsync("done 2, failed 1");

        w.Terminate();
        Assert.True(w.WaitForExit(TimeSpan.FromSeconds(60)), "watch did not stop on SIGTERM\n" + w.Log);
        Assert.Equal(0, w.ExitCode);
    }

    private static Task WaitForCounts(HttpClient http, WatchProcess w, int done, int failed) =>
        InProcessWatch.WaitUntil(() =>
        {
            using var s = JsonDocument.Parse(http.GetStringAsync("/api/status").Result);
            var workers = s.RootElement.GetProperty("workers");
            if (workers.GetArrayLength() == 0) return false;
            var counts = workers[0].GetProperty("counts");
            return counts.GetProperty("done").GetInt32() == done && counts.GetProperty("failed").GetInt32() == failed;
        }, TimeSpan.FromSeconds(120), () => $"{done} done, {failed} failed\n" + w.Log);
}
