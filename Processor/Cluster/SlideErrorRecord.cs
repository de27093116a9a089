using WsiSegment.Stitching.Output;
using System.Text.Json;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Watch;

namespace WsiSegment.Processor.Cluster;

/// <summary>
/// OUTDIR/STEM.error.json: why a slide of a cluster job failed (the same record the watch service writes beside a
/// failed slide), with the Slurm job and task that tried. A later success removes it.
/// </summary>
public static class SlideErrorRecord
{
    public sealed record Entry(SlideFailure Failure, string? JobId, int? TaskId, string? Node, int RestartCount);

    public static string PathOf(string outDir, string stem) => new SlideOutputs(outDir, stem).Error;

    public static void Write(string outDir, string stem, Entry entry) =>
        AtomicFile.WriteAllText(PathOf(outDir, stem), JsonSerializer.Serialize(entry, JsonOutput.Options));

    public static Entry? Read(string outDir, string stem)
    {
        string path = PathOf(outDir, stem);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<Entry>(File.ReadAllBytes(path), JsonOutput.Options); }
        catch (Exception e) when (e is JsonException or IOException) { return null; }
    }

    public static void Remove(string outDir, string stem)
    {
        try { File.Delete(PathOf(outDir, stem)); } catch (IOException) { }
    }
}
