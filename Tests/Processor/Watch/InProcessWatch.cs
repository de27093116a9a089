using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WsiSegment.Processor.Watch;

namespace WsiSegment.Tests.Processor.Watch;

/// <summary>The real watch host (configuration, validation, worker) started in this process over a fixture's folders.</summary>
public sealed class InProcessWatch : IAsyncDisposable
{
    private readonly IHost _host;

    private InProcessWatch(IHost host) => _host = host;

    public static Dictionary<string, string?> Settings(WatchFixture fx, params (string Key, string Value)[] extra)
    {
        var d = new Dictionary<string, string?>
        {
            ["Watch:Inbox"] = fx.Folders.Inbox,
            ["Watch:Outbox"] = fx.Folders.Outbox,
            ["Watch:StableSeconds"] = "0.3",
            ["Watch:RescanSeconds"] = "0.5",
            ["Watch:RetryDelaySeconds"] = "0.1",
        };
        foreach (var (k, v) in extra) d["Watch:" + k] = v;
        return d;
    }

    public static async Task<InProcessWatch> StartAsync(IReadOnlyDictionary<string, string?> settings, ISlideJob job)
    {
        var host = WatchHost.CreateBuilder(settings, _ => job, LogLevel.Warning).Build();
        await host.StartAsync();
        return new InProcessWatch(host);
    }

    /// <summary>What SIGTERM does: the host's lifetime asks every service to stop.</summary>
    public Task StopAsync() => _host.StopAsync();

    public async ValueTask DisposeAsync()
    {
        try { await _host.StopAsync(); } catch (ObjectDisposedException) { }
        _host.Dispose();
    }

    public static Task WaitUntil(Func<bool> condition, TimeSpan timeout, string what) => WaitUntil(condition, timeout, () => what);

    /// <summary>Polls until the condition holds; on timeout the message (built then, e.g. with a child's log so far) explains.</summary>
    public static async Task WaitUntil(Func<bool> condition, TimeSpan timeout, Func<string> what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("timed out waiting until " + what());
            await Task.Delay(50);
        }
    }
}
