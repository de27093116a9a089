using Microsoft.Extensions.Logging;

namespace WsiSegment.Processor.Watch;

/// <summary>
/// Wakes the worker when something changes in the inbox (FileSystemWatcher). Only a hint: events are missed on
/// network shares and when the kernel queue overflows, so the worker rescans on a timer as well.
/// </summary>
public sealed class InboxWatcher : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly FileSystemWatcher? _watcher;

    public InboxWatcher(string inbox, ILogger log)
    {
        try
        {
            _watcher = new FileSystemWatcher(inbox)
            {
                IncludeSubdirectories = false,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.Size | NotifyFilters.LastWrite,
            };
            _watcher.Created += (_, _) => Wake();
            _watcher.Changed += (_, _) => Wake();
            _watcher.Renamed += (_, _) => Wake();
            _watcher.Error += (_, e) => { log.LogDebug("Inbox watcher error ({Reason}); the rescan covers it", e.GetException().Message); Wake(); };
            _watcher.EnableRaisingEvents = true;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException or UnauthorizedAccessException)
        {
            log.LogWarning("Cannot watch {Inbox} for changes ({Reason}); relying on the periodic rescan", inbox, e.Message);
            _watcher?.Dispose();
            _watcher = null;
        }
    }

    public bool Active => _watcher is not null;

    /// <summary>Wakes a waiting worker (coalesced: many events make one wake-up).</summary>
    public void Wake()
    {
        try { if (_signal.CurrentCount == 0) _signal.Release(); }
        catch (SemaphoreFullException) { }
        catch (ObjectDisposedException) { }
    }

    /// <summary>Waits for a change or the timeout, whichever comes first.</summary>
    public Task WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);

    public void Dispose()
    {
        _watcher?.Dispose();
        _signal.Dispose();
    }
}
