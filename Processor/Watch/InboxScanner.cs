namespace WsiSegment.Processor.Watch;

/// <summary>
/// Lists the candidate slides in the inbox: top-level files, skipping hidden and partial-download names
/// (".x", "x.part", "x.tmp", "x~"); folders are only ever taken as the companion of a MIRAX file.
/// </summary>
public static class InboxScanner
{
    private static readonly string[] PartialSuffixes = [".part", ".partial", ".tmp", ".temp", ".crdownload", ".download", "~", ".filepart"];

    public static IReadOnlyList<SlideUnit> Scan(string inbox)
    {
        var units = new List<SlideUnit>();
        try
        {
            foreach (var path in Directory.EnumerateFiles(inbox))
            {
                string name = Path.GetFileName(path);
                if (IsIgnored(name)) continue;
                units.Add(SlideUnit.For(name));
            }
        }
        catch (DirectoryNotFoundException) { }
        return units;
    }

    /// <summary>Names never taken: hidden files (rsync's temporaries, our own state) and partial downloads.</summary>
    public static bool IsIgnored(string name) =>
        name.StartsWith('.') || PartialSuffixes.Any(s => name.EndsWith(s, StringComparison.OrdinalIgnoreCase));
}
