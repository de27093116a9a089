using Microsoft.Extensions.Logging;

namespace WsiSegment.Processor.Watch;

/// <summary>
/// Takes back what crashed or vanished workers left: stale claims (their slide goes back into the inbox), slides in
/// .processing/ without any claim, and output staging folders of dead processes. Run at start and periodically.
/// </summary>
public sealed class ClaimRecovery(WatchFolders folders, ClaimStore claims, SlideMover mover, ILogger log, CrashLedger? crashes = null, int maxCrashes = 2)
{
    public int Run()
    {
        int recovered = 0;
        foreach (var stale in claims.FindStale())
        {
            if (!claims.TryTakeOver(stale)) continue;
            if (stale.Record is { } attempt) StopOrphanedWorker(attempt);
            var unit = SlideUnit.For(stale.Slide);
            // The owner died while an attempt was under way: the slide may be what killed it. Count it, and stop
            // taking it once it has done so too often (a native abort would otherwise loop for ever).
            if (crashes is not null && stale.Record is { AttemptStartedUtc: { } started } r)
            {
                var all = crashes.Add(stale.Slide, new CrashedAttempt(r.Host, r.AttemptPid ?? r.Pid, started, r.Stage ?? "open", $"the process died ({stale.Why})"));
                if (all.Count >= maxCrashes && File.Exists(unit.MainIn(folders.Processing)))
                {
                    var me = ProcessIdentity.Current;
                    string reason = CrashLedger.Describe(all);
                    string where = mover.ToFailed(unit, new SlideFailure(stale.Slide, reason, r.Stage ?? "open", "WorkerCrashed", all.Count, "crash", me.Host, me.Pid, DateTimeOffset.UtcNow));
                    crashes.Clear(stale.Slide);
                    log.LogError("{Slide} {Reason}; moved to {Where}", stale.Slide, reason, where);
                    recovered++;
                    continue;
                }
                log.LogWarning("{Slide} was being segmented when its worker died ({Count} of {Max} crashes allowed)", stale.Slide, all.Count, maxCrashes);
            }
            string? back = mover.ReturnToInbox(unit);
            log.LogWarning("Took back the claim on {Slide} ({Why}); {Where}", stale.Slide, stale.Why,
                back is null ? "the slide was no longer in .processing" : "the slide is back in the inbox");
            recovered++;
        }
        recovered += ReturnOrphans();
        SweepStaging();
        return recovered;
    }

    /// <summary>
    /// A SIGKILL of the service does not reach the worker process it supervised: that worker may still be segmenting the
    /// slide. It is stopped before the slide is taken again, so two processes never work on one slide and its staging
    /// folder can be swept. Only a live `watch-worker` on this host is touched (a reused pid is left alone).
    /// </summary>
    private void StopOrphanedWorker(ClaimRecord r)
    {
        if (r.AttemptPid is not { } pid || pid == r.Pid || pid == Environment.ProcessId) return;
        if (!string.Equals(r.Host, ProcessIdentity.Current.Host, StringComparison.Ordinal) || !ProcessIdentity.IsRunning(pid)) return;
        string command;
        try { command = File.ReadAllText($"/proc/{pid}/cmdline"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        if (!command.Contains("watch-worker", StringComparison.Ordinal)) return;
        try
        {
            using var worker = System.Diagnostics.Process.GetProcessById(pid);
            worker.Kill();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception) { return; }
        var until = DateTime.UtcNow.AddSeconds(10);
        while (ProcessIdentity.IsRunning(pid) && DateTime.UtcNow < until) Thread.Sleep(50);
        log.LogWarning("Stopped worker pid {Pid}, left segmenting {Slide} by a service that died", pid, r.Slide);
    }

    /// <summary>A slide in .processing/ with no claim at all was left by a crash between the moves (claims come first).</summary>
    private int ReturnOrphans()
    {
        int n = 0;
        if (!Directory.Exists(folders.Processing)) return 0;
        foreach (var path in Directory.EnumerateFiles(folders.Processing))
        {
            string name = Path.GetFileName(path);
            if (name.StartsWith('.')) continue;
            string claim = claims.PathOf(name);
            if (File.Exists(claim) || Directory.EnumerateFiles(folders.Claims, Path.GetFileName(claim) + ".taken-*").Any()) continue;
            try
            {
                if (mover.ReturnToInbox(SlideUnit.For(name)) is not null)
                {
                    log.LogWarning("{Slide} was in .processing without a claim; put back in the inbox", name);
                    n++;
                }
            }
            catch (IOException e) { log.LogWarning("Could not put {Slide} back in the inbox: {Reason}", name, e.Message); }
        }
        return n;
    }

    /// <summary>
    /// Removes OUTBOX/STEM/.staging-STEM-PID-GUID folders whose process is gone from this host, unless a live claim names
    /// a slide with that stem (the stager may be a worker on another host).
    /// </summary>
    private void SweepStaging()
    {
        if (!Directory.Exists(folders.Outbox)) return;
        HashSet<string>? liveStems = null;
        foreach (var dir in Directory.EnumerateDirectories(folders.Outbox, ".staging-*", SearchOption.AllDirectories))
        {
            string name = Path.GetFileName(dir);
            int last = name.LastIndexOf('-'), before = last > 0 ? name.LastIndexOf('-', last - 1) : -1;
            if (before < 0 || !int.TryParse(name.AsSpan(before + 1, last - before - 1), out int pid)) continue;
            if (ProcessIdentity.IsRunning(pid)) continue;
            liveStems ??= LiveClaimStems();
            string stem = Path.GetFileName(Path.GetDirectoryName(dir)!);
            if (liveStems.Contains(stem)) continue;
            try
            {
                Directory.Delete(dir, recursive: true);
                log.LogInformation("Removed {Staging}, left by a run that was killed", dir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    private HashSet<string> LiveClaimStems()
    {
        var stems = new HashSet<string>(StringComparer.Ordinal);
        if (!Directory.Exists(folders.Claims)) return stems;
        foreach (var f in Directory.EnumerateFiles(folders.Claims, "*.claim"))
        {
            string slide = Path.GetFileName(f)[..^".claim".Length];
            if (claims.IsHeld(slide)) stems.Add(SlideUnit.For(slide).Stem);
        }
        return stems;
    }
}
