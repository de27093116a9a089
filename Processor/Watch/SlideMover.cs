using WsiSegment.Stitching.Output;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using WsiSegment.Processor.Cli;

namespace WsiSegment.Processor.Watch;

/// <summary>
/// Moves slides between the watch folders by rename: into .processing/ once claimed, to done/ or failed/ at the
/// end, back into the inbox when abandoned. A name already present at the destination (the same slide name dropped
/// again) sends the slide into a time-stamped sub-folder instead of replacing the older one.
/// </summary>
public sealed class SlideMover(WatchFolders folders, ILogger log)
{
    /// <summary>Moves a claimed slide from the inbox into .processing/; false when it is no longer in the inbox.</summary>
    public bool TakeIntoProcessing(SlideUnit unit)
    {
        if (unit.AnyPartIn(folders.Processing))
            throw new IOException($"{unit.MainIn(folders.Processing)}: already in .processing (an earlier run's leftover); not taking a second copy");
        return unit.MoveParts(folders.Inbox, folders.Processing);
    }

    /// <summary>Puts a slide back into the inbox (shutdown, lost claim recovery); returns where it went.</summary>
    public string? ReturnToInbox(SlideUnit unit)
    {
        if (!File.Exists(unit.MainIn(folders.Processing))) return null;
        if (unit.AnyPartIn(folders.Inbox))
        {
            log.LogWarning("{Slide} is in the inbox again; leaving the copy in {Processing} for an operator", unit.Name, folders.Processing);
            return null;
        }
        unit.MoveParts(folders.Processing, folders.Inbox);
        return unit.MainIn(folders.Inbox);
    }

    /// <summary>Moves a finished slide to done/ (returns its new path).</summary>
    public string ToDone(SlideUnit unit) => MoveOut(unit, folders.Done);

    /// <summary>Moves a failed slide to failed/ and writes STEM.error.json beside it (last, so a reader finds the slide first).</summary>
    public string ToFailed(SlideUnit unit, SlideFailure failure)
    {
        string moved = MoveOut(unit, folders.Failed);
        string errorPath = new SlideOutputs(Path.GetDirectoryName(moved)!, unit.Stem).Error;
        AtomicFile.WriteAllText(errorPath, JsonSerializer.Serialize(failure with { Slide = moved }, JsonOutput.Options));
        return moved;
    }

    private string MoveOut(SlideUnit unit, string dir)
    {
        string target = dir;
        if (unit.AnyPartIn(target) || File.Exists(new SlideOutputs(target, unit.Stem).Error))
            target = Path.Combine(dir, DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6]);
        if (!unit.MoveParts(folders.Processing, target))
            throw new IOException($"{unit.MainIn(folders.Processing)}: vanished before it could be moved to {dir}");
        return unit.MainIn(target);
    }
}
