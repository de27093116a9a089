using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WsiSegment.Processor.Watch;

namespace WsiSegment.Processor.Web;

/// <summary>
/// `watch --serve`: the same web view, over the watch service's outbox, with its status file and failed folder, so
/// the index shows the queue, the current slide and why slides failed. Runs beside the watch host; the watch host
/// keeps the signals (its grace period decides when the process ends).
/// </summary>
public static class WatchWebView
{
    public static async Task<WebApplication> StartAsync(IServiceProvider watchServices, string urls, string? tokenFile, LogLevel logLevel, CancellationToken ct)
    {
        var w = watchServices.GetRequiredService<IOptions<WatchOptions>>().Value;
        Directory.CreateDirectory(w.Outbox);
        Directory.CreateDirectory(w.DoneDirectory);
        var options = new ServeOptions
        {
            OutDirs = [w.Outbox],
            // Finished slides move to done/; with --leave-in-place they stay in the inbox.
            SlideDirs = [w.DoneDirectory, w.Inbox],
            Urls = urls,
            TokenFile = tokenFile,
            StatusFile = Path.Combine(w.Outbox, w.StatusFile),
            FailedDir = w.FailedDirectory,
        };
        WebApplication app;
        try { app = ServeApp.Build(options, logLevel, ownsSignals: false); }
        catch (ArgumentException e) { throw new Cli.UserError(e.Message, e); }
        await app.StartAsync(ct);
        foreach (var a in ServeApp.Addresses(app)) Console.WriteLine("serving " + a);
        return app;
    }
}
