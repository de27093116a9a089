using WsiSegment.Stitching.Output;
using System.Globalization;
using Microsoft.Extensions.Logging;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Segmentation;

namespace WsiSegment.Processor.Cluster;

/// <summary>
/// `cluster submit`: writes OUTDIR/.cluster/NAME/ (manifest.txt, segment.json, job.json, job.sbatch, logs/) and
/// submits the array. Everything a task needs is in that folder, with absolute paths, so any node that mounts the
/// same file system runs it the same way.
/// </summary>
public sealed class ClusterSubmitter(SlurmClient slurm, ILogger log)
{
    public sealed record Submitted(ClusterJob Job, string JobDir, string Script, string ScriptText);

    public async Task<Submitted> SubmitAsync(IReadOnlyList<string> slides, string outDir, SegmentOptions segment, SubmitOptions options,
        bool dryRun, CancellationToken ct)
    {
        if (slides.Count == 0) throw new UserError("no slides given (SLIDE… or --manifest FILE)");
        var full = slides.Select(Path.GetFullPath).ToList();
        foreach (var s in full)
            if (!File.Exists(s)) throw new UserError($"{s}: slide not found");
        var clash = full.GroupBy(SlideOutputs.StemOf).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null)
            throw new UserError($"{string.Join(", ", clash)}: these slides would write the same outputs {clash.Key}.* in one folder; submit them to different output folders");

        string model = Path.GetFullPath(segment.ModelPath ?? BundledModel.Path);
        string modelHash = ModelIdentity.HashOf(model);
        string name = options.JobName ?? "wsi-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)
            + "-" + Guid.NewGuid().ToString("N")[..4];
        string outFull = Path.GetFullPath(outDir);
        string jobDir = ClusterJob.DirOf(outFull, name);
        if (File.Exists(Path.Combine(jobDir, ClusterJob.FileName)))
            throw new UserError($"{jobDir}: a job of that name exists already; choose another --job-name");
        try
        {
            Directory.CreateDirectory(Path.Combine(jobDir, "logs"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserError($"{jobDir}: cannot be created ({e.Message})", e);
        }

        var job = new ClusterJob
        {
            Name = name, OutDir = outFull, Slides = full.Count, SlidesPerTask = options.SlidesPerTask,
            ModelHash = modelHash, MaxRequeues = options.MaxRequeues, CreatedUtc = DateTimeOffset.UtcNow,
        };
        Manifest.Write(Path.Combine(jobDir, ClusterJob.ManifestFileName), full);
        ClusterJob.WriteSegmentOptions(jobDir, segment with { ModelPath = model });
        string script = Path.Combine(jobDir, ClusterJob.ScriptFileName);
        string text = SbatchScript.Render(job, options, jobDir, SbatchScript.SelfCommand());
        AtomicFile.WriteAllText(script, text);
        job.Write(jobDir);
        if (dryRun) return new Submitted(job, jobDir, script, text);

        string id = await slurm.SubmitAsync(script, [], ct);
        job = job with { JobId = id };
        job.Write(jobDir);
        log.LogInformation("Submitted job {JobId} ({Name}): {Slides} slides in {Tasks} task(s) of up to {Per}", id, name, job.Slides, job.Tasks, job.SlidesPerTask);
        return new Submitted(job, jobDir, script, text);
    }
}
