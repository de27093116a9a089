using System.Diagnostics;
using Microsoft.Extensions.Logging;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Segmentation;
using WsiSegment.Processor.Watch;
using WsiSegment.Tiling.Slides;
using WsiSegment.Stitching.Output;

namespace WsiSegment.Processor.Cluster;

/// <summary>
/// One array task: its share of the manifest, one slide after another with the model loaded once (and only if a
/// slide needs it). A slide whose outputs already carry its own hash and the job's model hash is skipped, so a
/// requeued or re-submitted task redoes only what is missing. A corrupt slide is recorded as failed and the task
/// goes on; a transient failure, or a stop by signal, ends the task with <see cref="SbatchScript.RequeueExitCode"/>
/// so that Slurm runs it again (up to the job's MaxRequeues, after which the slide is recorded as failed).
/// </summary>
public sealed class TaskRunner(ILoggerFactory logs)
{
    private readonly ILogger _log = logs.CreateLogger("wsi-segment.cluster");

    public async Task<int> RunAsync(string manifestPath, int index, CancellationToken ct)
    {
        string manifest = Path.GetFullPath(manifestPath);
        string jobDir = Path.GetDirectoryName(manifest)!;
        var job = ClusterJob.Read(jobDir);
        var slides = Manifest.Read(manifest);
        if (slides.Count != job.Slides)
            throw new UserError($"{manifest}: lists {slides.Count} slides, but {Path.Combine(jobDir, ClusterJob.FileName)} was made for {job.Slides}");
        var mine = slides.Take(job.SliceOf(index)).ToList();
        var options = ClusterJob.ReadSegmentOptions(jobDir);
        var slurm = SlurmEnvironment.Current;
        int restart = slurm?.RestartCount ?? 0;
        _log.LogInformation("Task {Index} of {Job}: {Count} slide(s), restart {Restart}, node {Node}",
            index, job.Name, mine.Count, restart, slurm?.Node ?? Environment.MachineName);

        SlideSegmenter? segmenter = null;
        int done = 0, skipped = 0, failed = 0, transient = 0;
        try
        {
            foreach (var slide in mine)
            {
                if (ct.IsCancellationRequested) break;
                string stem = SlideOutputs.StemOf(slide);
                StagingLeftovers.RemoveAbandoned(job.OutDir, stem, _log);
                var sw = Stopwatch.StartNew();
                try
                {
                    // A slide gone from the manifest's place would be gone on every requeue too: not worth retrying.
                    if (!File.Exists(slide)) throw new SlideException(slide, "slide not found (moved or deleted since submission?)");
                    if (await PriorResults.AlreadyDoneAsync(job.OutDir, SlideUnit.For(Path.GetFileName(slide)), slide, job.ModelHash, ct))
                    {
                        skipped++;
                        SlideErrorRecord.Remove(job.OutDir, stem);
                        _log.LogInformation("slide {Slide}: skipped (outputs with the same slide and model hash exist)", slide);
                        continue;
                    }
                    segmenter ??= SlideSegmenter.Create(options, logs);
                    if (segmenter.ModelHash != job.ModelHash)
                        throw new UserError($"{options.ModelPath ?? BundledModel.Path}: the model changed since submission (hash {segmenter.ModelHash}, job made for {job.ModelHash})");
                    await segmenter.SegmentAsync(slide, job.OutDir, null, ct);
                    SlideErrorRecord.Remove(job.OutDir, stem);
                    done++;
                    _log.LogInformation("slide {Slide}: done in {Seconds:0.00}s", slide, sw.Elapsed.TotalSeconds);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    break;
                }
                catch (UserError) { throw; }
                catch (Exception e)
                {
                    var kind = FailureClassifier.Classify(e);
                    string reason = CommandRunner.Describe(e);
                    if (kind == FailureKind.Transient && restart < job.MaxRequeues)
                    {
                        transient++;
                        _log.LogWarning("slide {Slide}: transient failure, the task will be requeued: {Reason}", slide, reason);
                        continue;
                    }
                    failed++;
                    var me = ProcessIdentity.Current;
                    SlideErrorRecord.Write(job.OutDir, stem, new SlideErrorRecord.Entry(
                        new SlideFailure(Path.GetFileName(slide), reason, "segment", e.GetType().Name, restart + 1,
                            kind.ToString().ToLowerInvariant(), me.Host, me.Pid, DateTimeOffset.UtcNow),
                        slurm?.ArrayJobId ?? slurm?.JobId, slurm?.ArrayTaskId, slurm?.Node, restart));
                    _log.LogError("slide {Slide}: failed: {Reason}", slide, reason);
                }
            }
        }
        finally
        {
            segmenter?.Dispose();
        }
        if (ct.IsCancellationRequested)
        {
            _log.LogWarning("Task {Index} stopped by a signal after {Done} done; exiting {Code} so that Slurm requeues it", index, done, SbatchScript.RequeueExitCode);
            return SbatchScript.RequeueExitCode;
        }
        _log.LogInformation("Task {Index}: {Done} done, {Skipped} skipped, {Failed} failed, {Transient} to retry", index, done, skipped, failed, transient);
        if (transient > 0) return SbatchScript.RequeueExitCode;
        return failed > 0 ? CommandRunner.Failed : CommandRunner.Ok;
    }
}
