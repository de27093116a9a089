using WsiSegment.Stitching.Output;
using System.Text.Json;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Segmentation;

namespace WsiSegment.Processor.Cluster;

/// <summary>
/// One submitted batch, as OUTDIR/.cluster/NAME/job.json records it: where the outputs go, how the manifest is split
/// into array tasks, the model's hash (what "done" means) and the Slurm job id once submitted. The analysis options
/// sit beside it in segment.json, so every task of the array, requeued or not, runs with exactly the same settings.
/// </summary>
public sealed record ClusterJob
{
    public const string FileName = "job.json";
    public const string SegmentFileName = "segment.json";
    public const string ManifestFileName = "manifest.txt";
    public const string ScriptFileName = "job.sbatch";

    public required string Name { get; init; }
    public required string OutDir { get; init; }
    public required int Slides { get; init; }
    public required int SlidesPerTask { get; init; }
    public required string ModelHash { get; init; }
    /// <summary>Times a task may be requeued for transient failures before its unfinished slides count as failed.</summary>
    public int MaxRequeues { get; init; } = 3;
    public string? JobId { get; init; }
    public DateTimeOffset CreatedUtc { get; init; }

    public int Tasks => (Slides + SlidesPerTask - 1) / SlidesPerTask;

    public static string DirOf(string outDir, string name) => Path.Combine(Path.GetFullPath(outDir), ".cluster", name);

    /// <summary>The slides (indexes into the manifest) array task <paramref name="index"/> works on.</summary>
    public Range SliceOf(int index)
    {
        if (index < 0 || index >= Tasks) throw new UserError($"--index {index}: the job has tasks 0 to {Tasks - 1}");
        int start = index * SlidesPerTask;
        return start..Math.Min(Slides, start + SlidesPerTask);
    }

    public static ClusterJob Read(string jobDir)
    {
        string path = Path.Combine(jobDir, FileName);
        try
        {
            return JsonSerializer.Deserialize<ClusterJob>(File.ReadAllBytes(path), JsonOutput.Options)
                ?? throw new UserError($"{path}: empty job record");
        }
        catch (JsonException e) { throw new UserError($"{path}: not a job record ({e.Message})", e); }
        catch (FileNotFoundException) { throw new UserError($"{path}: not found (not a `cluster submit` job folder)"); }
        catch (DirectoryNotFoundException) { throw new UserError($"{path}: not found (not a `cluster submit` job folder)"); }
    }

    public void Write(string jobDir) =>
        AtomicFile.WriteAllText(Path.Combine(jobDir, FileName), JsonSerializer.Serialize(this, JsonOutput.Options));

    public static SegmentOptions ReadSegmentOptions(string jobDir)
    {
        string path = Path.Combine(jobDir, SegmentFileName);
        try
        {
            var options = JsonSerializer.Deserialize<SegmentOptions>(File.ReadAllBytes(path), JsonOutput.Options)
                ?? throw new UserError($"{path}: empty");
            return options.Validate();
        }
        catch (Exception e) when (e is JsonException or ArgumentException) { throw new UserError($"{path}: {e.Message}", e); }
        catch (FileNotFoundException) { throw new UserError($"{path}: not found"); }
    }

    public static void WriteSegmentOptions(string jobDir, SegmentOptions options) =>
        AtomicFile.WriteAllText(Path.Combine(jobDir, SegmentFileName), JsonSerializer.Serialize(options, JsonOutput.Options));
}
