using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Segmentation;
using WsiSegment.Processor.Watch;
using WsiSegment.Tiling.Slides;
using WsiSegment.Stitching.Output;

namespace WsiSegment.Processor.Cluster;

/// <summary>
/// The watch service's Slurm executor (`watch --executor slurm`): instead of segmenting in-process, each slide is
/// submitted as a one-task Slurm job (`cluster run-task`, the model loaded on the node) and followed until it ends.
/// The job's record lives in the slide's output folder (OUTBOX/STEM/.cluster/NAME/job.json), so a watch service that
/// was restarted finds a job still pending or running for the slide and follows it instead of submitting again.
/// Cancellation (SIGTERM, lost claim) stops following and leaves the job running.
/// </summary>
public sealed class SlurmSlideJob : ISlideJob, IConcurrentSlideJob
{
    private readonly SegmentOptions _segment;
    private readonly SlurmWatchOptions _options;
    private readonly SlurmClient _slurm;
    private readonly ClusterStatusReader _reader;
    private readonly ClusterSubmitter _submitter;
    private readonly ILogger _log;
    private readonly ClaimStore? _claims;

    private SlurmSlideJob(SegmentOptions segment, SlurmWatchOptions options, string modelHash, IReadOnlyList<string> classes, ILoggerFactory logs,
        WatchOptions? watch)
    {
        _segment = segment;
        _options = options;
        ModelHash = modelHash;
        ClassNames = classes;
        _log = logs.CreateLogger("wsi-segment.watch.slurm");
        _slurm = new SlurmClient(_log);
        _reader = new ClusterStatusReader(_slurm);
        _submitter = new ClusterSubmitter(_slurm, _log);
        if (watch is { Inbox.Length: > 0 }) _claims = new ClaimStore(new WatchFolders(watch).Claims, watch.Lease, _log);
    }

    public static SlurmSlideJob Create(IConfiguration configuration, ILoggerFactory logs)
    {
        SegmentOptions segment;
        SlurmWatchOptions options;
        try
        {
            segment = (configuration.GetSection(SegmenterJob.Section).Get<SegmentOptions>() ?? new SegmentOptions()).Validate();
            options = configuration.GetSection(SlurmWatchOptions.Section).Get<SlurmWatchOptions>() ?? new SlurmWatchOptions();
            options.ToSubmitOptions("check");
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new UserError($"{SlurmWatchOptions.Section}: {e.Message}", e);
        }
        if (SlurmClient.Unavailable() is { } why) throw new UserError("--executor slurm: " + why);
        string model = Path.GetFullPath(segment.ModelPath ?? BundledModel.Path);
        var watch = configuration.GetSection(WatchOptions.Section).Get<WatchOptions>();
        var job = new SlurmSlideJob(segment with { ModelPath = model }, options, ModelIdentity.HashOf(model), ModelIdentity.ClassNamesOf(model), logs, watch);
        job._log.LogInformation("Slurm executor: slides go to Slurm as one-task jobs (model {Model}, hash {Hash})", model, job.ModelHash);
        return job;
    }

    public string ModelHash { get; }

    public int MaxConcurrentSlides => _options.MaxJobs;

    public IReadOnlyList<string> ClassNames { get; }

    public async Task<SlideJobResult> RunAsync(string slidePath, string outDir, IProgress<PipelineProgress>? progress, CancellationToken ct)
    {
        string name = Path.GetFileName(slidePath);
        string? jobDir = await FindRunningJobAsync(outDir, name, ct);
        if (jobDir is not null)
        {
            _log.LogInformation("{Slide}: following Slurm job {Job} submitted before this service started ({JobDir})", name, ClusterJob.Read(jobDir).JobId, jobDir);
        }
        else
        {
            // The job reads the slide through a hard link of its own, so that moving the slide (done/, back to the
            // inbox after a restart) never pulls the file from under a pending or running task.
            string jobName = "watch-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6];
            string input = LinkForJob(slidePath, outDir, jobName);
            var submitted = await _submitter.SubmitAsync([input], outDir, _segment, _options.ToSubmitOptions(jobName), dryRun: false, ct);
            jobDir = submitted.JobDir;
            _log.LogInformation("{Slide}: submitted as Slurm job {Job}", name, submitted.Job.JobId);
        }
        // The claim names the job too (what other workers and operators see in INBOX/.claims/).
        _claims?.RecordExecutorJob(name, "slurm:" + ClusterJob.Read(jobDir).JobId);
        return await FollowAsync(slidePath, outDir, jobDir, progress, ct);
    }

    private async Task<SlideJobResult> FollowAsync(string slidePath, string outDir, string jobDir, IProgress<PipelineProgress>? progress, CancellationToken ct)
    {
        var every = TimeSpan.FromSeconds(Math.Max(0.2, _options.PollSeconds));
        while (true)
        {
            var status = await _reader.ReadAsync(jobDir, ct);
            var slide = status.Slides[0];
            progress?.Report(new PipelineProgress(slidePath, "slurm " + slide.State, slide.State == SlideState.Done ? 1 : 0, 1, 0));
            if (slide.State == SlideState.Done) { RemoveLink(outDir, status.Name); return ResultOf(outDir, slidePath); }
            if (slide.State == SlideState.Failed)
            {
                RemoveLink(outDir, status.Name);
                var error = SlideErrorRecord.Read(outDir, SlideOutputs.StemOf(slidePath));
                string reason = StripPath(slide.Reason ?? "failed", status.Slides[0].Slide);
                if (error?.Failure.Kind == "transient") throw new IOException($"{slidePath}: {reason} (job {status.JobId})");
                throw new SlideException(slidePath, reason);
            }
            if (status.Finished)
            {
                RemoveLink(outDir, status.Name);
                var task = (await _slurm.QueueAsync(status.JobId!, ct))?.FirstOrDefault();
                throw new SlurmJobException($"{slidePath}: Slurm job {status.JobId} ended {task?.State ?? "(no longer listed)"}{(task?.Reason is { } r ? " (" + r + ")" : "")} without outputs; see {Path.Combine(jobDir, "logs")}");
            }
            await Task.Delay(every, ct);
        }
    }

    /// <summary>A job for this slide, submitted earlier (by a previous run of the service), that has not ended.</summary>
    private async Task<string?> FindRunningJobAsync(string outDir, string fileName, CancellationToken ct)
    {
        string root = Path.Combine(outDir, ".cluster");
        if (!Directory.Exists(root)) return null;
        foreach (var dir in Directory.EnumerateDirectories(root, "watch-*").Order().Reverse())
        {
            if (!File.Exists(Path.Combine(dir, ClusterJob.FileName))) continue;
            ClusterJob job;
            try { job = ClusterJob.Read(dir); } catch (UserError) { continue; }
            if (job.JobId is null || job.ModelHash != ModelHash) continue;
            var slides = Manifest.Read(Path.Combine(dir, ClusterJob.ManifestFileName));
            if (slides.Count != 1 || Path.GetFileName(slides[0]) != fileName) continue;
            var tasks = await _slurm.QueueAsync(job.JobId, ct);
            if (tasks is not null && tasks.Any(t => t.IsActive)) return dir;
        }
        return null;
    }

    private SlideJobResult ResultOf(string outDir, string slidePath)
    {
        string report = SlideOutputs.For(slidePath, outDir).Report;
        using var doc = JsonDocument.Parse(File.ReadAllBytes(report));
        var root = doc.RootElement;
        string sha = root.GetProperty("slide").GetProperty("sha256").GetString() ?? "";
        var areas = root.GetProperty("classes").EnumerateArray()
            .Select(c => c.TryGetProperty("areaMm2", out var a) && a.ValueKind == JsonValueKind.Number ? a.GetDouble() : double.NaN).ToList();
        return new SlideJobResult(report, sha, areas);
    }

    private static string LinksDir(string outDir, string jobName) => Path.Combine(outDir, ".cluster", "inputs", jobName);

    private string LinkForJob(string slidePath, string outDir, string jobName)
    {
        // MIRAX keeps its pixels in a folder beside the file: no hard link for that; the job reads it in place.
        if (SlideUnit.IsMirax(slidePath)) return slidePath;
        string dir = LinksDir(outDir, jobName);
        Directory.CreateDirectory(dir);
        string link = Path.Combine(dir, Path.GetFileName(slidePath));
        if (link_(slidePath, link) == 0) return link;
        _log.LogDebug("No hard link for {Slide} (errno {Errno}; other file system?); the job reads it in place", slidePath, Marshal.GetLastPInvokeError());
        try { Directory.Delete(dir); } catch (IOException) { }
        return slidePath;
    }

    private static void RemoveLink(string outDir, string jobName)
    {
        try { Directory.Delete(LinksDir(outDir, jobName), recursive: true); }
        catch (DirectoryNotFoundException) { }
        catch (IOException) { }
    }

    private static string StripPath(string reason, string path) =>
        reason.StartsWith(path + ": ", StringComparison.Ordinal) ? reason[(path.Length + 2)..] : reason;

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int link_(string oldPath, string newPath);

    public void Dispose() { }
}
