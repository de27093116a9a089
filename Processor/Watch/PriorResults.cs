using System.Text.Json;
using WsiSegment.Processor.Segmentation;
using WsiSegment.Stitching.Output;

namespace WsiSegment.Processor.Watch;

/// <summary>
/// Idempotence: a slide whose outputs already exist with the same slide hash and model hash is not redone. The report
/// OUTDIR/STEM.json is written last, so its presence marks a complete set of outputs.
/// </summary>
public static class PriorResults
{
    public sealed record Prior(string ReportPath, string? SlideSha256, string? ModelHash);

    public static string ReportPathOf(string outDir, SlideUnit unit) => new SlideOutputs(outDir, unit.Stem).Report;

    public static Prior? Read(string outDir, SlideUnit unit)
    {
        string path = ReportPathOf(outDir, unit);
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            return new Prior(path, Find(doc.RootElement, "slide", "sha256"), Find(doc.RootElement, "model", "hash"));
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return new Prior(path, null, null);
        }
    }

    /// <summary>Whether the outputs in outDir were made from this very slide with this very model.</summary>
    public static async Task<bool> AlreadyDoneAsync(string outDir, SlideUnit unit, string slidePath, string modelHash, CancellationToken ct)
    {
        var prior = Read(outDir, unit);
        if (prior?.SlideSha256 is null || prior.ModelHash is null) return false;
        if (!string.Equals(prior.ModelHash, modelHash, StringComparison.OrdinalIgnoreCase)) return false;
        string sha = await FileHash.Sha256Async(slidePath, ct);
        return string.Equals(prior.SlideSha256, sha, StringComparison.OrdinalIgnoreCase);
    }

    private static string? Find(JsonElement root, string obj, string prop) =>
        root.ValueKind == JsonValueKind.Object
        && root.TryGetProperty(obj, out var o) && o.ValueKind == JsonValueKind.Object
        && o.TryGetProperty(prop, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
