namespace WsiSegment.Processor.Watch;

/// <summary>
/// Slides in the inbox this worker has already dealt with and that stay there (left in place after success, skipped
/// as already done, or blocked by a leftover), remembered by size and mtime so they are not claimed and hashed again
/// on every rescan; a change to the file makes it a candidate again.
/// </summary>
public sealed class SettledSlides
{
    private readonly Dictionary<string, (long, DateTime)> _settled = new(StringComparer.Ordinal);

    public void Add(SlideUnit unit, string folder)
    {
        if (Measure(unit, folder) is { } m) lock (_settled) _settled[unit.Name] = m;
    }

    public bool Contains(SlideUnit unit, string folder)
    {
        (long, DateTime) known;
        lock (_settled) if (!_settled.TryGetValue(unit.Name, out known)) return false;
        if (Measure(unit, folder) is { } m && m == known) return true;
        lock (_settled) _settled.Remove(unit.Name);
        return false;
    }

    private static (long, DateTime)? Measure(SlideUnit unit, string folder)
    {
        try { return unit.Measure(folder) is { } m ? (m.Size, m.MTimeUtc) : null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
