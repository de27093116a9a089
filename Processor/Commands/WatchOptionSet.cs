using System.CommandLine;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Watch;

namespace WsiSegment.Processor.Commands;

/// <summary>
/// The service options of `watch`, declared once: each is bound to its <see cref="WatchOptions"/> property, whose
/// name is its configuration key ("Watch:StableSeconds") and whose default is the option's. Only the options the
/// user gives are mapped onto configuration, so appsettings.json and WSISEGMENT_ variables stay in charge of the rest.
/// </summary>
public sealed class WatchOptionSet : OptionSet<WatchOptions>
{
    public WatchOptionSet()
    {
        // Required, with no default to show: read as unset where the record holds its empty placeholder.
        Bind(new Option<string?>("--inbox") { Description = "Folder where slides arrive." },
            nameof(WatchOptions.Inbox), o => NullIfEmpty(o.Inbox), (o, v) => Set(o, x => x.Inbox = v ?? ""));
        Bind(new Option<string?>("--outbox") { Description = "Folder for outputs (OUTBOX/STEM/), status.json and summary.csv." },
            nameof(WatchOptions.Outbox), o => NullIfEmpty(o.Outbox), (o, v) => Set(o, x => x.Outbox = v ?? ""));
        Bind(new Option<string?>("--done-dir") { Description = "Where finished slides go (default INBOX/done)." },
            nameof(WatchOptions.DoneDir), o => o.DoneDir, (o, v) => Set(o, x => x.DoneDir = v));
        Bind(new Option<string?>("--failed-dir") { Description = "Where failed slides go with STEM.error.json (default INBOX/failed)." },
            nameof(WatchOptions.FailedDir), o => o.FailedDir, (o, v) => Set(o, x => x.FailedDir = v));
        Bind(new Option<bool>("--leave-in-place") { Description = "Leave finished slides in the inbox instead of moving them to done/." },
            nameof(WatchOptions.LeaveInPlace), o => o.LeaveInPlace, (o, v) => Set(o, x => x.LeaveInPlace = v));
        Bind(new Option<double>("--stable-seconds") { Description = "Take a slide once its size and mtime are unchanged this long." },
            nameof(WatchOptions.StableSeconds), o => o.StableSeconds, (o, v) => Set(o, x => x.StableSeconds = v));
        Bind(new Option<double>("--rescan-seconds") { Description = "Full inbox rescan interval besides file-system events." },
            nameof(WatchOptions.RescanSeconds), o => o.RescanSeconds, (o, v) => Set(o, x => x.RescanSeconds = v));
        Bind(new Option<double>("--lease-seconds") { Description = "Claim lease; a claim not renewed this long is taken back." },
            nameof(WatchOptions.LeaseSeconds), o => o.LeaseSeconds, (o, v) => Set(o, x => x.LeaseSeconds = v));
        Bind(new Option<int>("--max-attempts") { Description = "Attempts per slide for transient errors." },
            nameof(WatchOptions.MaxAttempts), o => o.MaxAttempts, (o, v) => Set(o, x => x.MaxAttempts = v));
        Bind(new Option<int>("--max-crashes") { Description = "Attempts per slide that may crash the worker before the slide goes to failed/." },
            nameof(WatchOptions.MaxCrashes), o => o.MaxCrashes, (o, v) => Set(o, x => x.MaxCrashes = v));
        Bind(new Option<string>("--isolation") { Description = "process (each slide in a supervised worker process, replaced after a crash) or none (in the service's own process)." },
            nameof(WatchOptions.Isolation), o => o.Isolation, (o, v) => Set(o, x => x.Isolation = v));
        Bind(new Option<double>("--grace-seconds") { Description = "On SIGTERM/Ctrl+C the current slide may finish this long, then it is put back." },
            nameof(WatchOptions.GraceSeconds), o => o.GraceSeconds, (o, v) => Set(o, x => x.GraceSeconds = v));
        Bind(new Option<int>("--metrics-port") { Description = "Serve Prometheus metrics on this port (0: off)." },
            nameof(WatchOptions.MetricsPort), o => o.MetricsPort, (o, v) => Set(o, x => x.MetricsPort = v));
        Bind(new Option<string>("--status-file") { Description = "Status file name in the outbox." },
            nameof(WatchOptions.StatusFile), o => o.StatusFile, (o, v) => Set(o, x => x.StatusFile = v));
        Bind(new Option<bool>("--force") { Description = "Redo slides whose outputs exist with the same slide and model hash." },
            nameof(WatchOptions.Force), o => o.Force, (o, v) => Set(o, x => x.Force = v));
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    // The host binds WatchOptions as a mutable class; the set reads into a fresh instance it owns.
    private static WatchOptions Set(WatchOptions o, Action<WatchOptions> assign)
    {
        assign(o);
        return o;
    }
}
