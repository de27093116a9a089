using Microsoft.Extensions.Options;

namespace WsiSegment.Processor.Watch;

/// <summary>
/// Settings of the watch-folder service, bound from the configuration section "Watch" (appsettings.json, then
/// WSISEGMENT_Watch__Key environment variables, then the command line) and validated when the host starts.
/// </summary>
public sealed class WatchOptions
{
    public const string Section = "Watch";

    /// <summary>Folder where slides arrive. Required.</summary>
    public string Inbox { get; set; } = "";

    /// <summary>Folder where each slide's outputs go, in OUTBOX/STEM/, plus status.json and summary.csv. Required.</summary>
    public string Outbox { get; set; } = "";

    /// <summary>Where finished slides are moved; default INBOX/done. Same file system as the inbox (moves are renames).</summary>
    public string? DoneDir { get; set; }

    /// <summary>Where slides that could not be segmented are moved with STEM.error.json; default INBOX/failed.</summary>
    public string? FailedDir { get; set; }

    /// <summary>Leave finished slides in the inbox instead of moving them to <see cref="DoneDir"/> (they are then skipped by hash).</summary>
    public bool LeaveInPlace { get; set; }

    /// <summary>A slide is taken only once its size and mtime have not changed for this long (slides arrive by slow copies).</summary>
    public double StableSeconds { get; set; } = 15;

    /// <summary>Full rescan of the inbox at this interval, besides file-system events (which miss changes on network shares).</summary>
    public double RescanSeconds { get; set; } = 10;

    /// <summary>A claim not renewed for this long is considered abandoned and taken back (owners renew every quarter of it).</summary>
    public double LeaseSeconds { get; set; } = 120;

    /// <summary>How often stale claims (dead owner on this host, expired lease) are looked for.</summary>
    public double ClaimSweepSeconds { get; set; } = 60;

    /// <summary>Attempts per slide for transient errors (I/O, out of memory); corrupt input is never retried.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Attempts on one slide that may end with the working process dead (native crash, kill) before the
    /// slide goes to failed/ instead of being taken again.</summary>
    public int MaxCrashes { get; set; } = 2;

    public const string DefaultIsolation = "process";

    /// <summary>With the local executor: "process" segments each slide in a supervised worker process (the model loaded
    /// once per worker, a worker that crashes is replaced and the service lives on); "none" in the service itself.</summary>
    public string Isolation { get; set; } = DefaultIsolation;

    /// <summary>First back-off between attempts; doubled after each.</summary>
    public double RetryDelaySeconds { get; set; } = 10;

    /// <summary>On SIGTERM/Ctrl+C the current slide may finish for this long; then it is cancelled and put back in the inbox.</summary>
    public double GraceSeconds { get; set; } = 60;

    /// <summary>Redo slides whose outputs already exist with the same slide and model hash.</summary>
    public bool Force { get; set; }

    /// <summary>Serve Prometheus metrics on this port (http://+:PORT/metrics); 0 = off.</summary>
    public int MetricsPort { get; set; }

    /// <summary>Status file name inside the outbox (give each worker its own when several share an outbox).</summary>
    public string StatusFile { get; set; } = "status.json";

    public string DoneDirectory => string.IsNullOrWhiteSpace(DoneDir) ? Path.Combine(Inbox, "done") : DoneDir;

    public string FailedDirectory => string.IsNullOrWhiteSpace(FailedDir) ? Path.Combine(Inbox, "failed") : FailedDir;

    public TimeSpan Stable => TimeSpan.FromSeconds(StableSeconds);
    public TimeSpan Rescan => TimeSpan.FromSeconds(RescanSeconds);
    public TimeSpan Lease => TimeSpan.FromSeconds(LeaseSeconds);
    public TimeSpan ClaimSweep => TimeSpan.FromSeconds(ClaimSweepSeconds);
    public TimeSpan RetryDelay => TimeSpan.FromSeconds(RetryDelaySeconds);
    public TimeSpan Grace => TimeSpan.FromSeconds(GraceSeconds);
}

/// <summary>Checks <see cref="WatchOptions"/> when the host starts, naming every bad setting at once.</summary>
public sealed class WatchOptionsValidator : IValidateOptions<WatchOptions>
{
    public ValidateOptionsResult Validate(string? name, WatchOptions o)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(o.Inbox)) errors.Add("Watch:Inbox is required (--inbox DIR or WSISEGMENT_Watch__Inbox)");
        if (string.IsNullOrWhiteSpace(o.Outbox)) errors.Add("Watch:Outbox is required (--outbox DIR or WSISEGMENT_Watch__Outbox)");
        if (errors.Count == 0)
        {
            string inbox = Path.GetFullPath(o.Inbox), outbox = Path.GetFullPath(o.Outbox);
            if (inbox == outbox) errors.Add($"Watch:Inbox and Watch:Outbox must differ ({inbox})");
            else if (outbox.StartsWith(inbox + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                errors.Add($"Watch:Outbox ({outbox}) must not be inside the inbox: outputs would be taken for slides");
        }
        if (!(o.StableSeconds >= 0)) errors.Add($"Watch:StableSeconds must be >= 0 (got {o.StableSeconds})");
        if (!(o.RescanSeconds > 0)) errors.Add($"Watch:RescanSeconds must be > 0 (got {o.RescanSeconds})");
        if (!(o.LeaseSeconds >= 4)) errors.Add($"Watch:LeaseSeconds must be >= 4 (got {o.LeaseSeconds})");
        if (!(o.ClaimSweepSeconds > 0)) errors.Add($"Watch:ClaimSweepSeconds must be > 0 (got {o.ClaimSweepSeconds})");
        if (o.MaxAttempts < 1) errors.Add($"Watch:MaxAttempts must be >= 1 (got {o.MaxAttempts})");
        if (o.MaxCrashes < 1) errors.Add($"Watch:MaxCrashes must be >= 1 (got {o.MaxCrashes})");
        if (o.Isolation?.ToLowerInvariant() is not ("process" or "none")) errors.Add($"Watch:Isolation must be process or none (got '{o.Isolation}')");
        if (!(o.RetryDelaySeconds >= 0)) errors.Add($"Watch:RetryDelaySeconds must be >= 0 (got {o.RetryDelaySeconds})");
        if (!(o.GraceSeconds >= 0)) errors.Add($"Watch:GraceSeconds must be >= 0 (got {o.GraceSeconds})");
        if (o.MetricsPort is < 0 or > 65535) errors.Add($"Watch:MetricsPort must be 0 (off) or a TCP port (got {o.MetricsPort})");
        if (string.IsNullOrWhiteSpace(o.StatusFile) || o.StatusFile.Contains('/'))
            errors.Add($"Watch:StatusFile must be a plain file name (got '{o.StatusFile}')");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
