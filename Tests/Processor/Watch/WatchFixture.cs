using Microsoft.Extensions.Logging.Abstractions;
using WsiSegment.Processor.Watch;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Watch;

/// <summary>A fresh inbox/outbox pair on disk with the service's folder objects over it.</summary>
public sealed class WatchFixture : IDisposable
{
    private readonly TempDir _dir = new("watch");

    public WatchFixture(TimeSpan? lease = null)
    {
        Options = new WatchOptions { Inbox = Path.Combine(_dir.Path, "inbox"), Outbox = Path.Combine(_dir.Path, "outbox"), LeaseSeconds = (lease ?? TimeSpan.FromMinutes(2)).TotalSeconds };
        Folders = new WatchFolders(Options);
        Folders.EnsureCreated();
    }

    public WatchOptions Options { get; }
    public WatchFolders Folders { get; }
    public string Root => _dir.Path;

    public ClaimStore NewClaims() => new(Folders.Claims, Options.Lease, NullLogger.Instance);
    public SlideMover NewMover() => new(Folders, NullLogger.Instance);

    public string Inbox(string name) => Path.Combine(Folders.Inbox, name);

    public void Dispose() => _dir.Dispose();
}
