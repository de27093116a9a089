using WsiSegment.Tiling.Labels;

namespace WsiSegment.Tiling.Training;

/// <summary>
/// A split file (<c>--split split.tsv</c>): one source image or slide a line with its split, train, val or test.
/// Tab- or comma-separated, with or without a header row; the split is the column named <c>split</c> (else the last),
/// the image the column named image/slide/name/file (else the first). Images match by file name without extension,
/// so "a.tif", "/data/a.tif" and "a" are the same image.
/// </summary>
public sealed class SplitFile
{
    private static readonly string[] Splits = ["train", "val", "test"];
    private readonly Dictionary<string, string> _byStem;

    private SplitFile(string path, Dictionary<string, string> byStem)
    {
        Path = path;
        _byStem = byStem;
    }

    public string Path { get; }

    public static SplitFile Load(string path)
    {
        if (!File.Exists(path)) throw new LabelFileException(path, "split file not found");
        var rows = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split(l.Contains('\t') ? '\t' : ',').Select(f => f.Trim()).ToArray()).ToList();
        if (rows.Count == 0) throw new LabelFileException(path, "empty: no image and split rows");
        int splitCol = rows[0].Length - 1, imageCol = 0;
        bool header = !Splits.Contains(Normalise(rows[0][^1]));
        if (header)
        {
            var names = rows[0].Select(h => h.ToLowerInvariant()).ToArray();
            splitCol = Array.IndexOf(names, "split") is >= 0 and var s ? s : splitCol;
            imageCol = Array.FindIndex(names, h => h is "image" or "slide" or "name" or "file") is >= 0 and var i ? i : 0;
        }
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int r = header ? 1 : 0; r < rows.Count; r++)
        {
            var f = rows[r];
            if (f.Length <= Math.Max(splitCol, imageCol)) throw new LabelFileException(path, $"line {r + 1}: needs an image and a split");
            string split = Normalise(f[splitCol]);
            if (!Splits.Contains(split)) throw new LabelFileException(path, $"line {r + 1}: split '{f[splitCol]}' is not train, val or test");
            string stem = ImageStem(f[imageCol]);
            if (map.TryGetValue(stem, out var other) && other != split)
                throw new LabelFileException(path, $"line {r + 1}: '{stem}' is listed as both {other} and {split}");
            map[stem] = split;
        }
        return new SplitFile(path, map);
    }

    /// <summary>train, val or test for a source image; throws naming the split file when it is not listed.</summary>
    public string SplitOf(string image) => _byStem.TryGetValue(ImageStem(image), out var s) ? s
        : throw new LabelFileException(Path, $"does not list {System.IO.Path.GetFileName(image)} (every source image needs a split: train, val or test)");

    private static string Normalise(string split) => split.ToLowerInvariant() switch
    {
        "training" => "train",
        "valid" or "validation" => "val",
        "testing" => "test",
        var s => s,
    };

    /// <summary>The file name without its extension(s): "x/a.ome.tif" → "a".</summary>
    public static string ImageStem(string image)
    {
        string name = System.IO.Path.GetFileName(image);
        foreach (var ext in new[] { ".ome.tiff", ".ome.tif", ".tiff", ".tif", ".svs", ".ndpi", ".mrxs", ".scn", ".bif", ".png", ".jpg", ".jpeg" })
            if (name.EndsWith(ext, StringComparison.OrdinalIgnoreCase)) return name[..^ext.Length];
        return System.IO.Path.GetFileNameWithoutExtension(name);
    }
}
