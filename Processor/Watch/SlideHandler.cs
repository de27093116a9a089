using System.Diagnostics;
using Microsoft.Extensions.Logging;
using WsiSegment.Processor.Segmentation;

namespace WsiSegment.Processor.Watch;

/// <summary>
/// Everything that happens to one stable slide: claim, move into .processing/, content check, the hash check for
/// work already done, segmentation with retries for transient errors, and the final move with its records
/// (summary row, status, metrics, STEM.error.json). Shutdown gives the running slide the grace period, then
/// cancels it and puts it back in the inbox.
/// </summary>
public sealed class SlideHandler(
    WatchOptions options,
    WatchFolders folders,
    ClaimStore claims,
    SlideMover mover,
    ISlideJob job,
    WatchStatus status,
    SummaryCsv summary,
    WatchMetrics metrics,
    SettledSlides settled,
    ILogger log,
    CrashLedger? crashes = null)
{
    public async Task<SlideOutcome> HandleAsync(SlideUnit unit, CancellationToken stop)
    {
        var total = Stopwatch.StartNew();
        var claim = claims.TryClaim(unit.Name);
        if (claim is null) return SlideOutcome.NotTaken;
        try
        {
            bool taken;
            try { taken = mover.TakeIntoProcessing(unit); }
            catch (IOException e)
            {
                log.LogWarning("Not taking {Slide}: {Reason}", unit.Name, e.Message);
                settled.Add(unit, folders.Inbox);
                return SlideOutcome.NotTaken;
            }
            if (!taken) return SlideOutcome.NotTaken; // another worker finished it between our scan and our claim

            await using var lease = new LeaseKeeper(claims, claim, log);
            return await ProcessAsync(unit, claim, lease, total, stop);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A move or record that failed outside the job: the slide stays in .processing and, once our claim is
            // released, the recovery sweep puts it back in the inbox.
            log.LogError(e, "Handling {Slide} failed outside segmentation; it will be put back in the inbox by the recovery sweep", unit.Name);
            status.End("failed", 0);
            return SlideOutcome.Failed;
        }
        finally
        {
            claims.Release(claim);
        }
    }

    private async Task<SlideOutcome> ProcessAsync(SlideUnit unit, Claim claim, LeaseKeeper lease, Stopwatch total, CancellationToken stop)
    {
        string slidePath = unit.MainIn(folders.Processing);
        string outDir = folders.OutputsOf(unit);
        string? companion = unit.CompanionDir is null ? null : Path.Combine(folders.Processing, unit.CompanionDir);
        log.LogInformation("Took {Slide}", unit.Name);

        // Checked again after the move: the entry may have been replaced since discovery, and opening a FIFO blocks.
        if (WsiSegment.Tiling.Slides.FileKind.Of(slidePath).Rejection is { } notRegular)
            return Fail(unit, notRegular, "sniff", "NotARegularFile", attempts: 1, FailureKind.Permanent, total, jobSeconds: 0);
        var sniff = SlideSniffer.Sniff(slidePath, companion);
        if (!sniff.IsSlide)
            return Fail(unit, sniff.Reason!, "sniff", "NotASlide", attempts: 1, FailureKind.Permanent, total, jobSeconds: 0);

        try
        {
            if (!options.Force && await PriorResults.AlreadyDoneAsync(outDir, unit, slidePath, job.ModelHash, stop))
            {
                log.LogInformation("{Slide} already segmented with this model ({Outputs}); not redone (--force redoes it)", unit.Name, outDir);
                Finish(unit);
                Record(unit, "skipped", 1, 0, total.Elapsed.TotalSeconds, "outputs with the same slide and model hash exist", null);
                return SlideOutcome.Skipped;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return Abandon(unit, total);
        }

        double jobSeconds = 0;
        for (int attempt = 1; ; attempt++)
        {
            status.Begin(unit.Name, attempt);
            var progress = new SlideProgress(status, metrics, stage => claims.MarkStage(claim, stage));
            int workerPid;
            try { workerPid = job is IProcessBoundJob child ? await child.ReadyWorkerAsync(stop) : Environment.ProcessId; }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { return Abandon(unit, total); }
            // Recorded before any pixel is read: if this process dies in the attempt, recovery counts it as a crash.
            claims.MarkAttempt(claim, attempt, workerPid, "open");
            using var grace = new CancellationTokenSource();
            // Stopping lets the current slide run on for the grace period, then cancels it.
            using var onStop = stop.Register(() =>
            {
                log.LogInformation("Stopping: {Slide} may finish within {Grace}s", unit.Name, options.GraceSeconds);
                grace.CancelAfter(options.Grace);
            });
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(grace.Token, lease.Lost);
            var run = Stopwatch.StartNew();
            try
            {
                SlideJobResult result;
                try { result = await job.RunAsync(slidePath, outDir, progress, linked.Token); }
                finally { claims.EndAttempt(claim); }
                jobSeconds += run.Elapsed.TotalSeconds;
                string where = Finish(unit);
                double overhead = total.Elapsed.TotalSeconds - jobSeconds;
                log.LogInformation("Segmented {Slide} in {Seconds:0.00}s (service overhead {Overhead:0.000}s, attempt {Attempt}); outputs in {Outputs}, slide now {Where}",
                    unit.Name, jobSeconds, overhead, attempt, outDir, where);
                Record(unit, "done", attempt, jobSeconds, overhead, null, result.ClassAreasMm2);
                return SlideOutcome.Done;
            }
            catch (OperationCanceledException) when (linked.IsCancellationRequested)
            {
                if (lease.IsLost)
                {
                    status.End("abandoned", 0);
                    return SlideOutcome.Lost;
                }
                return Abandon(unit, total);
            }
            catch (Isolation.WorkerCrashedException crash) when (crashes is not null)
            {
                // The worker process died; this service did not. Counted like a crash found by recovery.
                jobSeconds += run.Elapsed.TotalSeconds;
                string stage = crash.Stage ?? progress.LastStage ?? "open";
                var all = crashes.Add(unit.Name, new CrashedAttempt(ProcessIdentity.Current.Host, crash.Pid, crash.StartedUtc, stage, crash.How));
                if (all.Count >= options.MaxCrashes)
                    return Fail(unit, CrashLedger.Describe(all), stage, "WorkerCrashed", all.Count, "crash", total, jobSeconds);
                log.LogWarning("{Slide}: the worker process {How} during {Stage} ({Count} of {Max} crashes allowed); a new worker takes it again",
                    unit.Name, crash.How, stage, all.Count, options.MaxCrashes);
                status.Retry();
                metrics.Retry();
            }
            catch (Exception e)
            {
                jobSeconds += run.Elapsed.TotalSeconds;
                var kind = FailureClassifier.Classify(e);
                string stage = progress.LastStage ?? "open";
                if (kind == FailureKind.Permanent || attempt >= options.MaxAttempts)
                {
                    log.LogDebug(e, "{Slide} failed", unit.Name);
                    return Fail(unit, Cli.CommandRunner.Describe(e), stage, (e as Isolation.WorkerReportedException)?.ExceptionType ?? e.GetType().Name, attempt, kind, total, jobSeconds);
                }
                var delay = options.RetryDelay * Math.Pow(2, attempt - 1);
                log.LogWarning("{Slide}: {Reason} during {Stage} (attempt {Attempt} of {Max}); retrying in {Delay:0.#}s",
                    unit.Name, Cli.CommandRunner.Describe(e), stage, attempt, options.MaxAttempts, delay.TotalSeconds);
                status.Retry();
                metrics.Retry();
                try
                {
                    using var waitCt = CancellationTokenSource.CreateLinkedTokenSource(stop, lease.Lost);
                    await Task.Delay(delay, waitCt.Token);
                }
                catch (OperationCanceledException)
                {
                    if (lease.IsLost) { status.End("abandoned", 0); return SlideOutcome.Lost; }
                    return Abandon(unit, total);
                }
            }
        }
    }

    /// <summary>Moves a finished slide to done/, or back into the inbox when slides stay in place.</summary>
    private string Finish(SlideUnit unit)
    {
        crashes?.Clear(unit.Name);
        if (!options.LeaveInPlace) return mover.ToDone(unit);
        string? back = mover.ReturnToInbox(unit);
        if (back is not null) settled.Add(unit, folders.Inbox);
        return back ?? unit.MainIn(folders.Processing);
    }

    private SlideOutcome Fail(SlideUnit unit, string reason, string stage, string exceptionType, int attempts, FailureKind kind, Stopwatch total, double jobSeconds) =>
        Fail(unit, reason, stage, exceptionType, attempts, kind.ToString().ToLowerInvariant(), total, jobSeconds);

    private SlideOutcome Fail(SlideUnit unit, string reason, string stage, string exceptionType, int attempts, string kind, Stopwatch total, double jobSeconds)
    {
        var me = ProcessIdentity.Current;
        var failure = new SlideFailure(unit.Name, reason, stage, exceptionType, attempts, kind, me.Host, me.Pid, DateTimeOffset.UtcNow);
        crashes?.Clear(unit.Name);
        string where = mover.ToFailed(unit, failure);
        log.LogError("Failed {Slide} during {Stage} after {Attempts} attempt(s): {Reason}; moved to {Where}", unit.Name, stage, attempts, reason, where);
        Record(unit, "failed", attempts, jobSeconds, total.Elapsed.TotalSeconds - jobSeconds, reason, null);
        return SlideOutcome.Failed;
    }

    private SlideOutcome Abandon(SlideUnit unit, Stopwatch total)
    {
        string? back = mover.ReturnToInbox(unit);
        log.LogWarning("Abandoned {Slide} at shutdown after {Seconds:0.0}s; {Where}", unit.Name, total.Elapsed.TotalSeconds,
            back is null ? "left in .processing for recovery" : "it is back in the inbox and will be redone");
        status.End("abandoned", 0);
        return SlideOutcome.Abandoned;
    }

    private void Record(SlideUnit unit, string outcome, int attempts, double jobSeconds, double overheadSeconds, string? reason, IReadOnlyList<double>? areas)
    {
        try { summary.Append(new SummaryCsv.Row(DateTimeOffset.UtcNow, unit.Name, outcome, attempts, jobSeconds, overheadSeconds, reason, areas)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogWarning("Could not append to {Summary}: {Reason}", summary.Path, e.Message);
        }
        status.End(outcome, jobSeconds);
        metrics.Outcome(outcome, jobSeconds);
    }

    /// <summary>Forwards pipeline progress to the status file and metrics, remembering the stage for error reports.</summary>
    private sealed class SlideProgress(WatchStatus status, WatchMetrics metrics, Action<string> stageChanged) : IProgress<PipelineProgress>
    {
        public string? LastStage { get; private set; }

        public void Report(PipelineProgress value)
        {
            if (value.Stage != LastStage) stageChanged(value.Stage);
            LastStage = value.Stage;
            status.Progress(value);
            metrics.Progress(value.Fraction);
        }
    }
}
