using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace WsiSegment.Processor.Watch;

/// <summary>Makes the segmentation job (the model is loaded once, when the worker starts).</summary>
public delegate ISlideJob SlideJobFactory();

/// <summary>
/// The watch-folder service: finds stable slides in the inbox (file-system events plus a periodic rescan), takes one
/// at a time through <see cref="SlideHandler"/>, and takes back abandoned claims at start and periodically. Nothing
/// that one slide throws stops the loop (an exception escaping ExecuteAsync would stop the host).
/// </summary>
public sealed class SlideWatchWorker(IOptions<WatchOptions> options, SlideJobFactory jobFactory, ILoggerFactory logs) : BackgroundService
{
    private readonly WatchOptions _o = options.Value;
    private readonly ILogger _log = logs.CreateLogger("wsi-segment.watch");
    private readonly WatchMetrics _metrics = new();
    private readonly SettledSlides _settled = new();
    private WatchFolders? _folders;
    private ISlideJob? _job;
    private SlideHandler? _handler;
    private ClaimRecovery? _recovery;
    private WatchStatus? _status;
    private InboxWatcher? _watcher;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        _folders = new WatchFolders(_o);
        _folders.EnsureCreated();
        _job = jobFactory();
        var claims = new ClaimStore(_folders.Claims, _o.Lease, _log);
        var mover = new SlideMover(_folders, _log);
        _status = new WatchStatus(Path.Combine(_folders.Outbox, _o.StatusFile));
        var summary = new SummaryCsv(Path.Combine(_folders.Outbox, "summary.csv"), _job.ClassNames);
        _handler = new SlideHandler(_o, _folders, claims, mover, _job, _status, summary, _metrics, _settled, _log);
        _recovery = new ClaimRecovery(_folders, claims, mover, _log);
        _metrics.Serve(_o.MetricsPort);
        int recovered = _recovery.Run();
        _watcher = new InboxWatcher(_folders.Inbox, _log);
        _log.LogInformation("Watching {Inbox} (stable after {Stable}s, rescan every {Rescan}s) → {Outbox}; model {Model}; took back {Recovered} abandoned slide(s){Metrics}",
            _folders.Inbox, _o.StableSeconds, _o.RescanSeconds, _folders.Outbox, _job.ModelHash, recovered,
            _o.MetricsPort > 0 ? $"; metrics on :{_o.MetricsPort}/metrics" : "");
        _status.SetState("idle");
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        await Task.Yield();
        var folders = _folders!;
        var tracker = new StabilityTracker(_o.Stable);
        var poll = TimeSpan.FromMilliseconds(Math.Clamp(_o.StableSeconds * 1000 / 4, 100, 1000));
        var nextSweep = DateTime.UtcNow + _o.ClaimSweep;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (DateTime.UtcNow >= nextSweep)
                {
                    _recovery!.Run();
                    nextSweep = DateTime.UtcNow + _o.ClaimSweep;
                }
                var units = InboxScanner.Scan(folders.Inbox).Where(u => !_settled.Contains(u, folders.Inbox)).ToList();
                var ready = tracker.Update(folders.Inbox, units, DateTime.UtcNow);
                _status!.SetQueue(ready.Count, tracker.Arriving);
                _metrics.Queue(ready.Count, tracker.Arriving);

                bool worked = false;
                foreach (var unit in ready)
                {
                    if (stop.IsCancellationRequested) break;
                    var outcome = await _handler!.HandleAsync(unit, stop);
                    tracker.Forget(unit);
                    // After a slide, look again: the queue may have changed while we worked.
                    if (outcome != SlideOutcome.NotTaken) { worked = true; break; }
                }
                if (!worked && !stop.IsCancellationRequested)
                    await _watcher!.WaitAsync(tracker.Arriving > 0 ? poll : _o.Rescan, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                _log.LogError(e, "Watch loop error; going on in 5 s");
                try { await Task.Delay(TimeSpan.FromSeconds(5), stop); }
                catch (OperationCanceledException) { break; }
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _status?.SetState("stopping");
        await base.StopAsync(cancellationToken);
        _status?.SetState("stopped");
        _log.LogInformation("Stopped: {Done} done, {Failed} failed", _status?.Done, _status?.Failed);
    }

    public override void Dispose()
    {
        _watcher?.Dispose();
        _metrics.Dispose();
        _job?.Dispose();
        base.Dispose();
    }
}
