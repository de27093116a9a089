using WsiSegment.Stitching.Output;

namespace WsiSegment.Processor.Watch;

/// <summary>
/// What is taken and moved as one: a slide file, plus for MIRAX (.mrxs) the folder of the same stem beside it that
/// holds its pixel data. Identified by the main file's name, which is unique within a folder.
/// </summary>
public sealed record SlideUnit(string Name, string? CompanionDir)
{
    public static SlideUnit For(string fileName) =>
        IsMirax(fileName) ? new SlideUnit(fileName, Path.GetFileNameWithoutExtension(fileName)) : new SlideUnit(fileName, null);

    public static bool IsMirax(string fileName) => fileName.EndsWith(".mrxs", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// File name without its slide extension(s) ("x.ome.tif" → "x"): names the output folder and, as the segmenter
    /// names it, the report STEM.json.
    /// </summary>
    public string Stem => SlideOutputs.StemOf(Name);

    public string MainIn(string dir) => Path.Combine(dir, Name);

    /// <summary>Every part of this unit that exists in a folder (main file and companion folder).</summary>
    public IEnumerable<string> PartsIn(string dir)
    {
        string main = MainIn(dir);
        if (File.Exists(main)) yield return main;
        if (CompanionDir is not null && Directory.Exists(Path.Combine(dir, CompanionDir)))
            yield return Path.Combine(dir, CompanionDir);
    }

    /// <summary>
    /// Total size and newest mtime of all parts (a MIRAX unit changes while any file of its folder does), or null when
    /// the main file is gone.
    /// </summary>
    public (long Size, DateTime MTimeUtc)? Measure(string dir)
    {
        var main = new FileInfo(MainIn(dir));
        if (!main.Exists) return null;
        long size = main.Length;
        DateTime mtime = main.LastWriteTimeUtc;
        if (CompanionDir is not null)
        {
            var folder = new DirectoryInfo(Path.Combine(dir, CompanionDir));
            if (folder.Exists)
            {
                mtime = Max(mtime, folder.LastWriteTimeUtc);
                foreach (var f in folder.EnumerateFiles("*", SearchOption.AllDirectories))
                {
                    size += f.Length;
                    mtime = Max(mtime, f.LastWriteTimeUtc);
                }
            }
        }
        return (size, mtime);
    }

    /// <summary>
    /// Moves every part from one folder to another by rename (companion first, main file last, so a unit whose main
    /// file is visible in a folder is complete there). Returns false when the main file was not in <paramref name="from"/>.
    /// </summary>
    public bool MoveParts(string from, string to)
    {
        if (!File.Exists(MainIn(from))) return false;
        Directory.CreateDirectory(to);
        if (CompanionDir is not null && Directory.Exists(Path.Combine(from, CompanionDir)))
            Directory.Move(Path.Combine(from, CompanionDir), Path.Combine(to, CompanionDir));
        try
        {
            File.Move(MainIn(from), MainIn(to), overwrite: false);
            return true;
        }
        catch (FileNotFoundException) { return false; }
        catch (DirectoryNotFoundException) { return false; }
    }

    /// <summary>Whether any part of this unit already exists in a folder (a move there would collide).</summary>
    public bool AnyPartIn(string dir) =>
        File.Exists(MainIn(dir)) || (CompanionDir is not null && Directory.Exists(Path.Combine(dir, CompanionDir)));

    private static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;
}
