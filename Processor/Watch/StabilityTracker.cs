namespace WsiSegment.Processor.Watch;

/// <summary>
/// Decides when an arriving slide is complete: its size and mtime have been seen unchanged for the stable time
/// (measured by our own observations, not by trusting the mtime, which copies may preserve) and it can be opened
/// for reading. Units are handed out oldest first.
/// </summary>
public sealed class StabilityTracker(TimeSpan stableFor)
{
    private readonly Dictionary<string, Observation> _seen = new(StringComparer.Ordinal);

    private sealed record Observation(SlideUnit Unit, long Size, DateTime MTimeUtc, DateTime UnchangedSinceUtc, DateTime FirstSeenUtc);

    /// <summary>Units seen but not yet stable.</summary>
    public int Arriving { get; private set; }

    /// <summary>
    /// Records what a scan found and returns the units that are stable now, oldest first. Units no longer in the
    /// folder are forgotten.
    /// </summary>
    public IReadOnlyList<SlideUnit> Update(string folder, IReadOnlyList<SlideUnit> units, DateTime nowUtc)
    {
        var present = new HashSet<string>(StringComparer.Ordinal);
        var stable = new List<Observation>();
        int arriving = 0;
        foreach (var unit in units)
        {
            present.Add(unit.Name);
            (long Size, DateTime MTimeUtc)? m;
            try { m = unit.Measure(folder); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { m = null; }
            if (m is not { } now) { _seen.Remove(unit.Name); continue; }

            if (!_seen.TryGetValue(unit.Name, out var obs) || obs.Size != now.Size || obs.MTimeUtc != now.MTimeUtc)
            {
                // First sight or a change: the clock starts again.
                obs = new Observation(unit, now.Size, now.MTimeUtc, nowUtc, obs?.FirstSeenUtc ?? nowUtc);
                _seen[unit.Name] = obs;
            }
            if (nowUtc - obs.UnchangedSinceUtc >= stableFor && CanOpen(unit.MainIn(folder)))
                stable.Add(obs);
            else
                arriving++;
        }
        foreach (var gone in _seen.Keys.Where(k => !present.Contains(k)).ToList())
            _seen.Remove(gone);
        Arriving = arriving;
        return stable.OrderBy(o => o.FirstSeenUtc).ThenBy(o => o.Unit.Name, StringComparer.Ordinal).Select(o => o.Unit).ToList();
    }

    /// <summary>Forgets a unit (after it was taken), so it is observed afresh if it reappears.</summary>
    public void Forget(SlideUnit unit) => _seen.Remove(unit.Name);

    private static bool CanOpen(string path)
    {
        // Never open what is not a regular file: a FIFO would block the whole service here.
        if (WsiSegment.Tiling.Slides.FileKind.Of(path).Value != WsiSegment.Tiling.Slides.FileKindValue.Regular) return false;
        try
        {
            using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }
}
