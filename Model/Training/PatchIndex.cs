using System.Globalization;
using System.Text.Json;

namespace WsiSegment.Model.Training;

/// <summary>
/// The table of a patch dataset folder as `extract` writes it: <c>images/*.png</c>, <c>labels/*.png</c> and
/// <c>index.csv</c> with a header row. Columns used (case-insensitive): the patch file (<c>image</c>, <c>file</c>,
/// <c>name</c> or <c>patch</c>; a bare name or a path relative to the folder), optionally <c>label</c>,
/// <c>split</c> (train/val), <c>slide</c>, <c>mpp</c>, <c>size</c>/<c>patch_size</c>. Optional metadata from
/// <c>dataset.json</c> (<c>mpp</c>, <c>patchSize</c>, <c>classes</c>/<c>classNames</c>).
/// </summary>
public sealed class PatchIndex
{
    public const string IndexFileName = "index.csv";

    private PatchIndex(string root, IReadOnlyList<PatchSample> samples, double? mpp, int? patchSize, IReadOnlyList<string>? classNames)
    {
        Root = root;
        Samples = samples;
        Mpp = mpp;
        PatchSize = patchSize;
        ClassNames = classNames;
    }

    public string Root { get; }
    public IReadOnlyList<PatchSample> Samples { get; }

    /// <summary>Microns per pixel of the patches, when the dataset records it: every row's <c>mpp</c> must agree (a dataset
    /// mixing resolutions is refused, naming two sources), else <c>dataset.json</c>'s.</summary>
    public double? Mpp { get; }

    /// <summary>Patch edge in pixels, when the dataset records it.</summary>
    public int? PatchSize { get; }

    /// <summary>Class names in id order, when the dataset records them.</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    public IEnumerable<PatchSample> Split(DatasetSplit split) => Samples.Where(s => s.Split == split);

    public static PatchIndex Load(string root)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"{root}: dataset folder not found");
        string indexPath = Path.Combine(root, IndexFileName);
        if (!File.Exists(indexPath))
            throw new DatasetFormatException(indexPath, "missing: a patch dataset needs index.csv (as written by `wsi-segment extract`)");
        var lines = File.ReadAllLines(indexPath).Where(l => l.Trim().Length > 0).ToList();
        if (lines.Count == 0) throw new DatasetFormatException(indexPath, "empty: no header and no patches");
        var header = SplitCsv(lines[0]).Select(h => h.Trim().ToLowerInvariant()).ToArray();
        int col(params string[] names) => Array.FindIndex(header, h => names.Contains(h));
        int iImage = col("image", "file", "name", "patch", "image_path", "filename");
        int iLabel = col("label", "mask", "label_path");
        int iSplit = col("split", "set");
        int iSlide = col("slide", "source");
        int iMpp = col("mpp");
        int iSize = col("size", "patch_size", "patchsize");
        if (iImage < 0)
            throw new DatasetFormatException(indexPath, $"no patch file column (image, file, name or patch) in the header '{lines[0]}'");

        var samples = new List<PatchSample>();
        double? mpp = null;
        string? mppSource = null;
        int? size = null;
        for (int n = 1; n < lines.Count; n++)
        {
            var f = SplitCsv(lines[n]);
            string field(int i) => i >= 0 && i < f.Count ? f[i].Trim() : "";
            string image = field(iImage);
            if (image.Length == 0) throw new DatasetFormatException(indexPath, $"line {n + 1}: no patch file name");
            string imagePath = Resolve(root, image, "images");
            string labelPath = iLabel >= 0 && field(iLabel).Length > 0
                ? Resolve(root, field(iLabel), "labels")
                : Path.Combine(root, "labels", Path.GetFileName(imagePath));
            var split = field(iSplit).ToLowerInvariant() switch
            {
                "" or "train" or "training" => DatasetSplit.Train,
                "val" or "valid" or "validation" => DatasetSplit.Val,
                "test" or "testing" => DatasetSplit.Test,
                var other => throw new DatasetFormatException(indexPath, $"line {n + 1}: unknown split '{other}' (train, val or test)"),
            };
            samples.Add(new PatchSample(imagePath, labelPath, field(iSlide), split));
            if (double.TryParse(field(iMpp), NumberStyles.Float, CultureInfo.InvariantCulture, out var m) && m > 0)
            {
                string source = field(iSlide).Length > 0 ? field(iSlide) : image;
                if (mpp is null) (mpp, mppSource) = (m, source);
                else if (!SameMpp(mpp.Value, m))
                    throw new DatasetFormatException(indexPath, string.Create(CultureInfo.InvariantCulture,
                        $"line {n + 1}: patches at different resolutions: {mppSource} at {mpp.Value:0.######} µm/px, {source} at {m:0.######} µm/px. A model learns one scale and its card records one MPP: extract every source at the same --mpp"));
            }
            if (size is null && int.TryParse(field(iSize), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) && s > 0) size = s;
        }

        IReadOnlyList<string>? names = null;
        string meta = Path.Combine(root, "dataset.json");
        if (File.Exists(meta))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(meta));
                foreach (var p in doc.RootElement.EnumerateObject())
                {
                    string key = p.Name.ToLowerInvariant();
                    if (key == "mpp" && p.Value.ValueKind == JsonValueKind.Number) mpp ??= p.Value.GetDouble();
                    else if (key is "patchsize" or "patch_size" or "size" && p.Value.ValueKind == JsonValueKind.Number) size ??= p.Value.GetInt32();
                    else if (key is "classes" or "classnames" or "class_names" && p.Value.ValueKind == JsonValueKind.Array)
                        names = p.Value.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString() ?? "" : e.ToString()).ToList();
                }
            }
            catch (JsonException e)
            {
                throw new DatasetFormatException(meta, "not valid JSON: " + e.Message, e);
            }
        }
        return new PatchIndex(root, samples, mpp, size, names);
    }

    /// <summary>Equal up to the 6 decimals `extract` writes.</summary>
    private static bool SameMpp(double a, double b) => Math.Abs(a - b) <= 1e-6 * Math.Max(a, b) + 5e-7;

    private static string Resolve(string root, string value, string folder)
    {
        if (Path.IsPathRooted(value)) return value;
        if (value.Contains('/') || value.Contains('\\')) return Path.GetFullPath(Path.Combine(root, value));
        if (!value.Contains('.')) value += ".png";
        return Path.Combine(root, folder, value);
    }

    /// <summary>Splits one CSV line (RFC 4180 quoting; no line breaks inside fields).</summary>
    internal static List<string> SplitCsv(string line)
    {
        var fields = new List<string>();
        var current = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { current.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else current.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(current.ToString()); current.Clear(); }
            else current.Append(c);
        }
        fields.Add(current.ToString());
        return fields;
    }
}
