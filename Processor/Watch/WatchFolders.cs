namespace WsiSegment.Processor.Watch;

/// <summary>
/// The folders of one watch set-up. Claims and slides being worked on live in hidden folders inside the inbox, so
/// taking a slide is a rename on one file system (atomic, also over NFS) and every worker sees the same state.
/// </summary>
public sealed class WatchFolders
{
    public WatchFolders(WatchOptions o)
    {
        Inbox = Path.GetFullPath(o.Inbox);
        Outbox = Path.GetFullPath(o.Outbox);
        Done = Path.GetFullPath(o.DoneDirectory);
        Failed = Path.GetFullPath(o.FailedDirectory);
        Processing = Path.Combine(Inbox, ".processing");
        Claims = Path.Combine(Inbox, ".claims");
    }

    public string Inbox { get; }
    public string Outbox { get; }
    public string Done { get; }
    public string Failed { get; }

    /// <summary>Slides being worked on (moved here by rename once claimed).</summary>
    public string Processing { get; }

    /// <summary>One claim file per slide being worked on: owner host, pid and lease.</summary>
    public string Claims { get; }

    /// <summary>Where one slide's outputs go.</summary>
    public string OutputsOf(SlideUnit unit) => Path.Combine(Outbox, unit.Stem);

    public void EnsureCreated()
    {
        foreach (var d in new[] { Inbox, Outbox, Done, Failed, Processing, Claims })
        {
            try { Directory.CreateDirectory(d); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new IOException($"{d}: cannot create the folder ({e.Message})", e);
            }
        }
    }
}
