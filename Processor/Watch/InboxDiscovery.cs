using Microsoft.Extensions.Logging;

namespace WsiSegment.Processor.Watch;

/// <summary>
/// Keeps watching the inbox while slides are being segmented, so a slide that arrived during a long one has already
/// proven stable by the time the worker is free: file-system events wake it, a periodic rescan covers what events
/// miss, and it polls faster while something is still arriving. Publishes the stable slides, oldest first, as
/// numbered snapshots; also runs the periodic stale-claim recovery.
/// </summary>
public sealed class InboxDiscovery(WatchOptions options, WatchFolders folders, SettledSlides settled, ClaimRecovery recovery,
    WatchStatus status, WatchMetrics metrics, ILogger log, RejectedEntries? rejected = null) : IDisposable
{
    private readonly StabilityTracker _tracker = new(options.Stable);
    private readonly SemaphoreSlim _published = new(0, 1);
    private readonly InboxWatcher _watcher = new(folders.Inbox, log);
    private readonly object _gate = new();
    private IReadOnlyList<SlideUnit> _ready = [];
    private long _version;

    public sealed record Snapshot(long Version, IReadOnlyList<SlideUnit> Ready);

    public Snapshot Current { get { lock (_gate) return new Snapshot(_version, _ready); } }

    /// <summary>Asks for a rescan now (after a slide was handled, the inbox has changed).</summary>
    public void RequestRescan() => _watcher.Wake();

    /// <summary>Waits until a snapshot newer than <paramref name="version"/> is published (or the timeout).</summary>
    public async Task<Snapshot> WaitNewerAsync(long version, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var s = Current;
            var left = deadline - DateTime.UtcNow;
            if (s.Version > version || left <= TimeSpan.Zero) return s;
            await _published.WaitAsync(left, ct);
        }
    }

    public async Task RunAsync(CancellationToken stop)
    {
        var poll = TimeSpan.FromMilliseconds(Math.Clamp(options.StableSeconds * 1000 / 4, 100, 1000));
        var nextSweep = DateTime.UtcNow + options.ClaimSweep;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (DateTime.UtcNow >= nextSweep)
                {
                    recovery.Run();
                    nextSweep = DateTime.UtcNow + options.ClaimSweep;
                }
                var odd = new List<(string Name, string Reason)>();
                var units = InboxScanner.Scan(folders.Inbox, odd).Where(u => !settled.Contains(u, folders.Inbox)).ToList();
                foreach (var (name, reason) in odd) rejected?.Record(name, reason);
                var ready = _tracker.Update(folders.Inbox, units, DateTime.UtcNow);
                lock (_gate)
                {
                    _ready = ready;
                    _version++;
                }
                try { if (_published.CurrentCount == 0) _published.Release(); } catch (SemaphoreFullException) { }
                status.SetQueue(ready.Count, _tracker.Arriving);
                metrics.Queue(ready.Count, _tracker.Arriving);
                await _watcher.WaitAsync(_tracker.Arriving > 0 ? poll : options.Rescan, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                log.LogError(e, "Inbox scan failed; trying again in 5 s");
                try { await Task.Delay(TimeSpan.FromSeconds(5), stop); }
                catch (OperationCanceledException) { break; }
            }
        }
    }

    public void Dispose()
    {
        _watcher.Dispose();
        _published.Dispose();
    }
}
