using System.Text.Json;
using WsiSegment.Stitching.Output;

namespace WsiSegment.Processor.Web;

/// <summary>
/// What the watch service is doing, as its files say: status.json (current slide, progress, queue, counts) and
/// the failed slides' STEM.error.json (reason, stage, kind). Read fresh per request; they are small.
/// </summary>
public sealed class WatchStatusReader(ServeOptions options)
{
    private const int MaxFailedListed = 200;

    /// <summary>The status files to show: the watch service's own, or any status.json at the top of the output folders.</summary>
    private IEnumerable<string> StatusFiles() => options.StatusFile is { } s ? [s] : options.OutDirs.Select(d => Path.Combine(d, "status.json"));

    public object Read()
    {
        var statuses = new List<JsonElement>();
        foreach (var file in StatusFiles())
            if (ReadJson(file) is { } doc) statuses.Add(doc);
        var failed = new List<JsonElement>();
        if (options.FailedDir is { } dir && Directory.Exists(dir))
            foreach (var f in Directory.EnumerateFiles(dir, "*" + SlideOutputs.ErrorSuffix).Take(MaxFailedListed))
                if (ReadJson(f) is { } doc) failed.Add(doc);
        failed.Sort((a, b) => string.CompareOrdinal(Str(b, "failedUtc"), Str(a, "failedUtc")));
        return new { watch = statuses.Count > 0, workers = statuses, failed };
    }

    /// <summary>A fingerprint that changes when any of the files does (for the live event stream).</summary>
    public string Fingerprint()
    {
        var parts = StatusFiles().Select(f => File.Exists(f) ? File.GetLastWriteTimeUtc(f).Ticks : 0).ToList();
        if (options.FailedDir is { } dir && Directory.Exists(dir))
            parts.Add(Directory.EnumerateFiles(dir, "*" + SlideOutputs.ErrorSuffix).Count());
        return string.Join('-', parts);
    }

    private static string Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.ToString() : "";

    private static JsonElement? ReadJson(string path)
    {
        try
        {
            if (!File.Exists(path) || new FileInfo(path).Length > 1 << 20) return null;
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            return doc.RootElement.Clone();
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null; // being replaced right now (atomic rename) or not ours: the next poll reads it
        }
    }
}
