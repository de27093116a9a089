using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Segmentation;
using WsiSegment.Processor.Watch;
using WsiSegment.Stitching.Output;

namespace WsiSegment.Processor.Cluster;

/// <summary>
/// Per-slide state of a cluster job from what is there to read: the outputs on disk (a report with the job's model
/// hash is done), error records (failed, with the reason), and the scheduler's view of the tasks (squeue, or sacct
/// where the site keeps accounting) for the rest. Works without accounting: squeue forgets ended jobs after
/// MinJobAge, and the disk still tells done from failed.
/// </summary>
public sealed class ClusterStatusReader(SlurmClient slurm)
{
    public async Task<JobStatus> ReadAsync(string jobDir, CancellationToken ct)
    {
        var job = ClusterJob.Read(jobDir);
        var slides = Manifest.Read(Path.Combine(jobDir, ClusterJob.ManifestFileName));
        IReadOnlyList<SlurmTask>? tasks = null;
        string source = "disk";
        if (job.JobId is not null)
        {
            tasks = await slurm.QueueAsync(job.JobId, ct);
            if (tasks is { Count: > 0 }) source = "squeue";
            else if (await slurm.AccountingAsync(job.JobId, ct) is { Count: > 0 } acct) { tasks = acct; source = "sacct"; }
        }
        var byTask = new Dictionary<int, SlurmTask>();
        foreach (var t in tasks ?? [])
            if (t.TaskId is { } id) byTask[id] = t; // later records (requeues) replace earlier ones
        bool anyActive = byTask.Values.Any(t => t.IsActive);

        var states = new List<SlideState>(slides.Count);
        for (int i = 0; i < slides.Count; i++)
        {
            string slide = slides[i];
            int task = i / job.SlidesPerTask;
            string stem = SlideOutputs.StemOf(slide);
            byTask.TryGetValue(task, out var t);
            int requeues = t?.RestartCount ?? 0;
            var prior = PriorResults.Read(job.OutDir, SlideUnit.For(Path.GetFileName(slide)));
            var error = SlideErrorRecord.Read(job.OutDir, stem);
            bool active = t?.IsActive == true;
            if (prior?.ModelHash is not null && string.Equals(prior.ModelHash, job.ModelHash, StringComparison.OrdinalIgnoreCase))
                states.Add(new SlideState(slide, task, SlideState.Done, null, requeues, t?.Node));
            else if (error is not null && !(active && t!.State == "RUNNING" && error.RestartCount < t.RestartCount))
                states.Add(new SlideState(slide, task, SlideState.Failed, error.Failure.Reason, Math.Max(requeues, error.RestartCount), error.Node));
            else if (active)
                states.Add(new SlideState(slide, task, t!.State == "RUNNING" ? SlideState.Running : SlideState.Pending,
                    t.Reason, requeues, t.Node));
            else if (job.JobId is null)
                states.Add(new SlideState(slide, task, SlideState.Pending, "not submitted (dry run)", 0, null));
            else
                states.Add(new SlideState(slide, task, SlideState.Incomplete,
                    $"task {task} ended ({t?.State ?? "no longer in squeue"}) without outputs or an error record; see {TaskLog(jobDir, task)}", requeues, t?.Node));
        }
        // squeue lists an array from submission until MinJobAge after its end: no active task means it has ended.
        // If squeue could not be asked at all (tasks null), nothing is known to have ended.
        bool finished = job.JobId is null || (tasks is not null && !anyActive);
        return new JobStatus(job.Name, job.JobId, job.OutDir, states, finished, source);
    }

    /// <summary>The job folder for a JOBID or an OUTDIR (its newest job) or a job folder itself.</summary>
    public async Task<string> FindJobDirAsync(string jobOrDir, string? outDir, CancellationToken ct)
    {
        if (Directory.Exists(jobOrDir))
        {
            string full = Path.GetFullPath(jobOrDir);
            if (File.Exists(Path.Combine(full, ClusterJob.FileName))) return full;
            var newest = JobsIn(full).OrderByDescending(j => j.Job.CreatedUtc).FirstOrDefault();
            return newest.Dir ?? throw new UserError($"{full}: no cluster jobs in it ({Path.Combine(full, ".cluster")} is missing or empty)");
        }
        if (!jobOrDir.All(char.IsAsciiDigit)) throw new UserError($"{jobOrDir}: neither a job id nor a folder");
        if (outDir is not null)
        {
            var match = JobsIn(Path.GetFullPath(outDir)).FirstOrDefault(j => j.Job.JobId == jobOrDir);
            if (match.Dir is not null) return match.Dir;
        }
        // The tasks run with --chdir set to the job folder, which squeue reports.
        var r = await slurm.RunAsync("squeue", ["-h", "-t", "all", "-j", jobOrDir, "-o", "%Z"], ct);
        string? cwd = r.ExitCode == 0 ? r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() : null;
        if (cwd is not null && File.Exists(Path.Combine(cwd, ClusterJob.FileName))) return cwd;
        throw new UserError($"job {jobOrDir}: Slurm no longer lists it; give the output folder instead (cluster status OUTDIR)");
    }

    private static IEnumerable<(string Dir, ClusterJob Job)> JobsIn(string outDir)
    {
        string root = Path.Combine(outDir, ".cluster");
        if (!Directory.Exists(root)) yield break;
        foreach (var dir in Directory.EnumerateDirectories(root))
        {
            if (!File.Exists(Path.Combine(dir, ClusterJob.FileName))) continue;
            ClusterJob job;
            try { job = ClusterJob.Read(dir); } catch (UserError) { continue; }
            yield return (dir, job);
        }
    }

    private static string TaskLog(string jobDir, int task) => Path.Combine(jobDir, "logs", $"task-{task}.log");
}
