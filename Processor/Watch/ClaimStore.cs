using System.Text.Json;
using Microsoft.Extensions.Logging;
using WsiSegment.Processor.Cli;

namespace WsiSegment.Processor.Watch;

/// <summary>The content of a claim file: who works on a slide and until when the claim holds unless renewed.
/// <para>The attempt fields are written before each segmentation attempt starts (and the stage as it changes), so a
/// worker that dies mid-slide leaves behind what it was doing: the recovery sweep counts that as a crash of the slide
/// (<see cref="CrashLedger"/>). <c>AttemptPid</c> is the process doing the work (a supervised child, or the worker).</para></summary>
public sealed record ClaimRecord(string Slide, string Host, string BootId, int Pid, long PidStartTicks, string Token,
    DateTimeOffset ClaimedUtc, DateTimeOffset LeaseUntilUtc,
    int Attempt = 0, DateTimeOffset? AttemptStartedUtc = null, int? AttemptPid = null, string? Stage = null)
{
    /// <summary>The external job doing the work, when an executor hands the slide on (e.g. "slurm:1234"); optional.</summary>
    public string? ExecutorJob { get; init; }

    public ProcessIdentity Owner => new(Host, BootId, Pid, PidStartTicks);
}

/// <summary>A claim this process holds.</summary>
public sealed class Claim(string path, ClaimRecord record)
{
    public string Path { get; } = path;
    public ClaimRecord Record { get; internal set; } = record;
    public string Slide => Record.Slide;
}

/// <summary>A claim found abandoned (owner dead on this host, or lease expired), ready to be taken back.</summary>
public sealed record StaleClaim(string Slide, string Path, ClaimRecord? Record, string Why);

/// <summary>
/// Claim files in INBOX/.claims/, one per slide being worked on. A claim is made by exclusive create (O_EXCL: exactly
/// one creator wins, on every worker and host sharing the folder), holds the owner's host, boot, pid and a lease,
/// and is renewed in place while the owner works. A claim is taken back by renaming it away (again exactly one
/// winner) once its owner is known dead on this host or its lease has expired; the renaming worker then puts the
/// slide back into the inbox. An owner whose renewal finds its claim gone knows it lost it and stops.
/// </summary>
public sealed class ClaimStore(string claimsDir, TimeSpan lease, ILogger log)
{
    private const string Suffix = ".claim";

    public TimeSpan Lease => lease;

    public string PathOf(string slide) => Path.Combine(claimsDir, slide + Suffix);

    /// <summary>Claims a slide; null when someone else holds it.</summary>
    public Claim? TryClaim(string slide)
    {
        var now = DateTimeOffset.UtcNow;
        var me = ProcessIdentity.Current;
        var record = new ClaimRecord(slide, me.Host, me.BootId, me.Pid, me.StartTicks, Guid.NewGuid().ToString("N"), now, now + lease);
        string path = PathOf(slide);
        FileStream? stream = null;
        Directory.CreateDirectory(claimsDir);
        for (int attempt = 0; stream is null; attempt++)
        {
            try
            {
                stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
            }
            catch (IOException) when (File.Exists(path))
            {
                return null;
            }
            catch (IOException) when (attempt < 3)
            {
                // It existed when we tried and was released just after: the slide has been dealt with; look again.
            }
        }
        using (stream)
        {
            JsonSerializer.Serialize(stream, record, JsonOutput.Options);
            stream.Flush(flushToDisk: true);
        }
        return new Claim(path, record);
    }

    /// <summary>
    /// Extends the lease in place (same file, so a worker that renamed it away has taken it). False when the claim was
    /// lost: the file is gone or now carries another token.
    /// </summary>
    public bool Renew(Claim claim) => Update(claim, r => r);

    /// <summary>Records, before the work starts, that an attempt is under way (and by which process), so that a
    /// worker dying in it is counted as a crash of this slide when its claim is taken back.</summary>
    public bool MarkAttempt(Claim claim, int attempt, int pid, string stage) =>
        Update(claim, r => r with { Attempt = attempt, AttemptStartedUtc = DateTimeOffset.UtcNow, AttemptPid = pid, Stage = stage });

    /// <summary>Records the stage the attempt has reached (what a crash report names).</summary>
    public bool MarkStage(Claim claim, string stage) => claim.Record.Stage == stage || Update(claim, r => r with { Stage = stage });

    /// <summary>The attempt ended without killing anyone (success, failure, cancellation): nothing to count.</summary>
    public bool EndAttempt(Claim claim) => Update(claim, r => r with { AttemptStartedUtc = null, AttemptPid = null });

    /// <summary>Rewrites our claim in place with a renewed lease; false when the claim was lost.</summary>
    private bool Update(Claim claim, Func<ClaimRecord, ClaimRecord> change)
    {
        lock (claim)
        try
        {
            using var stream = new FileStream(claim.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
            var current = TryParse(stream);
            if (current is not null && current.Token != claim.Record.Token) return false;
            // ExecutorJob may have been recorded in the file since (RecordExecutorJob): keep it.
            var renewed = change(claim.Record) with { LeaseUntilUtc = DateTimeOffset.UtcNow + lease, ExecutorJob = current?.ExecutorJob ?? claim.Record.ExecutorJob };
            var bytes = JsonSerializer.SerializeToUtf8Bytes(renewed, JsonOutput.Options);
            stream.Position = 0;
            stream.Write(bytes);
            stream.SetLength(bytes.Length);
            stream.Flush(flushToDisk: true);
            claim.Record = renewed;
            return true;
        }
        catch (FileNotFoundException) { return false; }
        catch (IOException e)
        {
            // A passing I/O hiccup must not cost the slide: the lease leaves time for the next renewal.
            log.LogWarning("Could not renew the claim on {Slide}: {Reason}", claim.Slide, e.Message);
            return true;
        }
    }

    /// <summary>
    /// Records the external job working on a slide in its claim (only a claim this process holds), so that whoever
    /// reads the claims sees where the slide is being done. False when there is no such claim or it is busy.
    /// </summary>
    public bool RecordExecutorJob(string slide, string executorJob)
    {
        var me = ProcessIdentity.Current;
        try
        {
            using var stream = new FileStream(PathOf(slide), FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
            var current = TryParse(stream);
            if (current is null || current.Pid != me.Pid || current.Host != me.Host) return false;
            var bytes = JsonSerializer.SerializeToUtf8Bytes(current with { ExecutorJob = executorJob }, JsonOutput.Options);
            stream.Position = 0;
            stream.Write(bytes);
            stream.SetLength(bytes.Length);
            stream.Flush(flushToDisk: true);
            return true;
        }
        catch (IOException e)
        {
            log.LogDebug("Could not record {Job} in the claim on {Slide}: {Reason}", executorJob, slide, e.Message);
            return false;
        }
    }

    /// <summary>Removes our claim (only if it is still ours).</summary>
    public void Release(Claim claim)
    {
        try
        {
            var current = Read(claim.Path);
            if (current is not null && current.Token != claim.Record.Token) return;
            File.Delete(claim.Path);
        }
        catch (IOException e) { log.LogWarning("Could not release the claim on {Slide}: {Reason}", claim.Slide, e.Message); }
    }

    /// <summary>Whether a live (non-stale) claim exists for a slide.</summary>
    public bool IsHeld(string slide)
    {
        string path = PathOf(slide);
        return File.Exists(path) && Staleness(path, DateTimeOffset.UtcNow) is null;
    }

    /// <summary>Claims whose owner is dead on this host or whose lease has expired.</summary>
    public IReadOnlyList<StaleClaim> FindStale()
    {
        var stale = new List<StaleClaim>();
        if (!Directory.Exists(claimsDir)) return stale;
        var now = DateTimeOffset.UtcNow;
        foreach (var path in Directory.EnumerateFiles(claimsDir, "*" + Suffix))
        {
            var why = Staleness(path, now);
            if (why is not null)
                stale.Add(new StaleClaim(Path.GetFileName(path)[..^Suffix.Length], path, Read(path), why));
        }
        // Leftovers of take-overs interrupted by a crash.
        foreach (var path in Directory.EnumerateFiles(claimsDir, "*" + Suffix + ".taken-*"))
            if (now - File.GetLastWriteTimeUtc(path) > lease) TryDelete(path);
        return stale;
    }

    /// <summary>
    /// Takes a stale claim away from its owner by renaming it; true for exactly one of several workers trying, and only
    /// if it is still stale after the rename (an owner that renewed at the last moment keeps it).
    /// </summary>
    public bool TryTakeOver(StaleClaim stale)
    {
        string taken = stale.Path + ".taken-" + Guid.NewGuid().ToString("N");
        try { File.Move(stale.Path, taken); }
        catch (FileNotFoundException) { return false; }
        catch (IOException) { return false; }
        if (Staleness(taken, DateTimeOffset.UtcNow) is null)
        {
            // Renewed between our look and the rename: give it back (the owner's next renewal finds it again).
            try { File.Move(taken, stale.Path); } catch (IOException) { }
            return false;
        }
        TryDelete(taken);
        return true;
    }

    /// <summary>Why a claim file is stale, or null when it holds.</summary>
    private string? Staleness(string path, DateTimeOffset now)
    {
        ClaimRecord? r = Read(path);
        if (r is null)
        {
            // Being written or rewritten right now, or left empty by a crash: judge by its age.
            try { return now - File.GetLastWriteTimeUtc(path) > lease ? "unreadable claim older than the lease" : null; }
            catch (IOException) { return null; }
        }
        if (r.Owner.IsDeadOnThisHost()) return $"owner pid {r.Pid} on {r.Host} is gone";
        if (r.LeaseUntilUtc < now) return $"lease of {r.Host} pid {r.Pid} expired at {r.LeaseUntilUtc:O}";
        return null;
    }

    private static ClaimRecord? Read(string path)
    {
        try
        {
            using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return TryParse(s);
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private static ClaimRecord? TryParse(Stream s)
    {
        try { return JsonSerializer.Deserialize<ClaimRecord>(s, JsonOutput.Options); }
        catch (JsonException) { return null; }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
