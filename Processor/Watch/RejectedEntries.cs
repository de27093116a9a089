using WsiSegment.Stitching.Output;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using WsiSegment.Processor.Cli;

namespace WsiSegment.Processor.Watch;

/// <summary>
/// Inbox entries that can never be slides because they are not regular files (FIFOs, sockets, devices, links to
/// them, link loops, dangling links). Found by stat at discovery, never opened (opening a FIFO blocks the service;
/// reading /dev/zero never ends); each is recorded once: moved to failed/ by rename with STEM.error.json and a row in
/// summary.csv. When it cannot be moved it stays in the inbox, ignored, and is logged once.
/// </summary>
public sealed class RejectedEntries(WatchFolders folders, SummaryCsv summary, WatchMetrics metrics, ILogger log)
{
    private readonly HashSet<string> _recorded = new(StringComparer.Ordinal);

    /// <summary>Names already recorded (and still ignored if they could not be moved).</summary>
    public bool IsRecorded(string name)
    {
        lock (_recorded) return _recorded.Contains(name);
    }

    public void Record(string name, string reason)
    {
        lock (_recorded) if (!_recorded.Add(name)) return;
        string from = Path.Combine(folders.Inbox, name);
        string dir = folders.Failed;
        if (Exists(Path.Combine(dir, name)))
            dir = Path.Combine(dir, DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6]);
        string to = Path.Combine(dir, name);
        try
        {
            Directory.CreateDirectory(dir);
            File.Move(from, to); // rename(2): moves the FIFO or link itself, never reads through it
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (e is FileNotFoundException or DirectoryNotFoundException && !Exists(from)) return; // another worker took it
            log.LogWarning("Rejected {Entry} in the inbox: {Reason}; it could not be moved to {Failed} ({Error}) and is ignored", name, reason, folders.Failed, e.Message);
            return;
        }
        var me = ProcessIdentity.Current;
        var failure = new SlideFailure(to, reason, "discovery", "NotARegularFile", 0, FailureKind.Permanent.ToString().ToLowerInvariant(), me.Host, me.Pid, DateTimeOffset.UtcNow);
        try
        {
            AtomicFile.WriteAllText(new SlideOutputs(dir, SlideUnit.For(name).Stem).Error, JsonSerializer.Serialize(failure, JsonOutput.Options));
            summary.Append(new SummaryCsv.Row(DateTimeOffset.UtcNow, name, "rejected", 0, 0, 0, reason, null));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogWarning("Could not record the rejection of {Entry}: {Error}", name, e.Message);
        }
        metrics.Outcome("failed", 0);
        log.LogWarning("Rejected {Entry} in the inbox: {Reason}; moved to {Where}", name, reason, to);
    }

    /// <summary>Whether a directory entry exists at all (a dangling link or a link loop included), without following it.</summary>
    private static bool Exists(string path)
    {
        try { return new FileInfo(path).Exists || new FileInfo(path).LinkTarget is not null; }
        catch (IOException) { return true; }
    }
}
