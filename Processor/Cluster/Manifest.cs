using WsiSegment.Stitching.Output;

namespace WsiSegment.Processor.Cluster;

/// <summary>A list of slides, one path per line, relative ones from the manifest's folder (blank lines and lines
/// starting with # are ignored). Written with absolute paths.</summary>
public static class Manifest
{
    public static IReadOnlyList<string> Read(string path)
    {
        string[] lines;
        try { lines = File.ReadAllLines(path); }
        catch (FileNotFoundException) { throw new Cli.UserError($"{path}: manifest not found"); }
        catch (DirectoryNotFoundException) { throw new Cli.UserError($"{path}: manifest not found"); }
        string baseDir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var slides = new List<string>();
        foreach (var raw in lines)
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            slides.Add(Path.GetFullPath(line, baseDir));
        }
        return slides;
    }

    /// <summary>Writes absolute paths, so that tasks started in any folder on any node find the same files.</summary>
    public static void Write(string path, IEnumerable<string> slides) =>
        AtomicFile.WriteAllText(path, string.Concat(slides.Select(s => Path.GetFullPath(s) + "\n")));
}
