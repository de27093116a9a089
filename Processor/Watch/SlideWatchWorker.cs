using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace WsiSegment.Processor.Watch;

/// <summary>Makes the segmentation job (the model is loaded once, when the worker starts).</summary>
public delegate ISlideJob SlideJobFactory();

/// <summary>
/// The watch-folder service: <see cref="InboxDiscovery"/> keeps finding stable slides in the background while this
/// loop takes them one at a time through <see cref="SlideHandler"/>. Abandoned claims are taken back at start and
/// periodically. Nothing one slide throws stops the loop (an exception escaping ExecuteAsync would stop the host).
/// </summary>
public sealed class SlideWatchWorker(IOptions<WatchOptions> options, SlideJobFactory jobFactory, ILoggerFactory logs) : BackgroundService
{
    private readonly WatchOptions _o = options.Value;
    private readonly ILogger _log = logs.CreateLogger("wsi-segment.watch");
    private readonly WatchMetrics _metrics = new();
    private readonly SettledSlides _settled = new();
    private ISlideJob? _job;
    private SlideHandler? _handler;
    private InboxDiscovery? _discovery;
    private WatchStatus? _status;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var folders = new WatchFolders(_o);
        folders.EnsureCreated();
        _job = jobFactory();
        var claims = new ClaimStore(folders.Claims, _o.Lease, _log);
        var mover = new SlideMover(folders, _log);
        _status = new WatchStatus(Path.Combine(folders.Outbox, _o.StatusFile));
        var summary = new SummaryCsv(Path.Combine(folders.Outbox, "summary.csv"), _job.ClassNames);
        var crashes = new CrashLedger(folders.Claims);
        _handler = new SlideHandler(_o, folders, claims, mover, _job, _status, summary, _metrics, _settled, _log, crashes);
        var recovery = new ClaimRecovery(folders, claims, mover, _log, crashes, _o.MaxCrashes);
        _metrics.Serve(_o.MetricsPort);
        int recovered = recovery.Run();
        _discovery = new InboxDiscovery(_o, folders, _settled, recovery, _status, _metrics, _log, new RejectedEntries(folders, summary, _metrics, _log));
        _log.LogInformation("Watching {Inbox} (stable after {Stable}s, rescan every {Rescan}s) → {Outbox}; model {Model}; took back {Recovered} abandoned slide(s){Metrics}",
            folders.Inbox, _o.StableSeconds, _o.RescanSeconds, folders.Outbox, _job.ModelHash, recovered,
            _o.MetricsPort > 0 ? $"; metrics on :{_o.MetricsPort}/metrics" : "");
        _status.SetState("idle");
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        await Task.Yield();
        var discovery = _discovery!;
        var discovering = discovery.RunAsync(stop);
        long seen = 0;
        try
        {
            // Executors whose work runs elsewhere (Slurm) keep several slides in flight.
            if (_job is IConcurrentSlideJob { MaxConcurrentSlides: > 1 } many)
                await new ConcurrentDispatch(discovery, _handler!, many.MaxConcurrentSlides, _o.Rescan, _log).RunAsync(stop);
            else
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var snapshot = await discovery.WaitNewerAsync(seen, _o.Rescan, stop);
                    seen = snapshot.Version;
                    foreach (var unit in snapshot.Ready)
                    {
                        if (stop.IsCancellationRequested) break;
                        var outcome = await _handler!.HandleAsync(unit, stop);
                        if (outcome == SlideOutcome.NotTaken) continue;
                        // The inbox changed under this snapshot: work from a fresh one.
                        discovery.RequestRescan();
                        seen = discovery.Current.Version;
                        break;
                    }
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
        finally
        {
            await discovering;
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
        _discovery?.Dispose();
        _metrics.Dispose();
        _job?.Dispose();
        base.Dispose();
    }
}
