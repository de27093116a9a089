namespace WsiSegment.Processor.Watch;

/// <summary>
/// Lists the candidate slides in the inbox: top-level files, skipping hidden and partial-download names
/// (".x", "x.part", "x.tmp", "x~"); folders are only ever taken as the companion of a MIRAX file. Only regular files
/// (or links to them) are candidates.
/// </summary>
public static class InboxScanner
{
    private static readonly string[] PartialSuffixes = [".part", ".partial", ".tmp", ".temp", ".crdownload", ".download", "~", ".filepart"];

    public static IReadOnlyList<SlideUnit> Scan(string inbox) => Scan(inbox, null);

    /// <summary>Lists the regular files; entries that are not (FIFOs, sockets, devices, links to them or to nothing,
    /// link loops) go to <paramref name="rejected"/> with the reason, found by stat without opening them.</summary>
    public static IReadOnlyList<SlideUnit> Scan(string inbox, List<(string Name, string Reason)>? rejected)
    {
        var units = new List<SlideUnit>();
        try
        {
            foreach (var path in Directory.EnumerateFiles(inbox))
            {
                string name = Path.GetFileName(path);
                if (IsIgnored(name)) continue;
                var kind = WsiSegment.Tiling.Slides.FileKind.Of(path);
                if (kind.Value == WsiSegment.Tiling.Slides.FileKindValue.Missing) continue; // gone since the listing
                if (kind.Rejection is { } why)
                {
                    // A link to a directory is listed as a file; a directory is only ever a MIRAX companion.
                    if (kind.Value != WsiSegment.Tiling.Slides.FileKindValue.Directory) rejected?.Add((name, why));
                    continue;
                }
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
