using System.Reflection;
using System.Text;

namespace WsiSegment.Processor.Cluster;

/// <summary>
/// The batch script `cluster submit` writes (and prints with --dry-run): one job array whose task N runs
/// `wsi-segment cluster run-task MANIFEST --index N`. Every setting is an #SBATCH line, so the script can be read,
/// edited and re-submitted by hand with plain `sbatch`.
/// </summary>
public static class SbatchScript
{
    /// <summary>Exit code of a task that should run again (transient failure, or stopped by a signal): EX_TEMPFAIL.
    /// The cluster requeues it when slurm.conf has RequeueExit=75.</summary>
    public const int RequeueExitCode = 75;

    public static string Render(ClusterJob job, SubmitOptions o, string jobDir, IReadOnlyList<string> command)
    {
        var s = new StringBuilder();
        s.Append("#!/bin/bash\n");
        s.Append("# Written by `wsi-segment cluster submit`. Re-submit with `sbatch ").Append(Path.Combine(jobDir, ClusterJob.ScriptFileName))
            .Append("`: tasks skip slides already done with the same model.\n");
        Line(s, "--job-name", job.Name);
        Line(s, "--array", $"0-{job.Tasks - 1}%{o.MaxRunning}");
        s.Append("#SBATCH --requeue\n");
        Line(s, "--output", Path.Combine(jobDir, "logs", "task-%a.log"));
        // A requeued task appends to its log instead of wiping what its earlier run said.
        Line(s, "--open-mode", "append");
        Line(s, "--chdir", jobDir);
        Line(s, "--cpus-per-task", (o.Resources.CpusPerTask ?? 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (o.Resources.Partition is { } p) Line(s, "--partition", p);
        if (o.Resources.Gres is { } g) Line(s, "--gres", g);
        if (o.Resources.Mem is { } m) Line(s, "--mem", m);
        if (o.Resources.Time is { } t) Line(s, "--time", t);
        if (o.Resources.Account is { } a) Line(s, "--account", a);
        foreach (var extra in o.Resources.SbatchArgs) s.Append("#SBATCH ").Append(extra).Append('\n');
        s.Append('\n');
        s.Append("# One malloc arena (as `segment` does for itself); threads follow SLURM_CPUS_PER_TASK.\n");
        s.Append("export MALLOC_ARENA_MAX=\"${MALLOC_ARENA_MAX:-1}\"\n");
        s.Append("echo \"wsi-segment: task ${SLURM_ARRAY_TASK_ID} of job ${SLURM_ARRAY_JOB_ID} on ${SLURMD_NODENAME:-?}, restart ${SLURM_RESTART_COUNT:-0}, $(date -u +%FT%TZ)\"\n");
        // Not exec: if the task is killed (SIGKILL), bash still exits 137, which RequeueExit can name.
        s.Append(string.Join(' ', command.Select(Quote))).Append(" cluster run-task ").Append(Quote(Path.Combine(jobDir, ClusterJob.ManifestFileName)))
            .Append(" --index \"$SLURM_ARRAY_TASK_ID\"\n");
        s.Append("exit $?\n");
        return s.ToString();
    }

    /// <summary>How to start this very executable on a node (the apphost, or `dotnet wsi-segment.dll`).</summary>
    public static IReadOnlyList<string> SelfCommand()
    {
        string host = Environment.ProcessPath ?? "wsi-segment";
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            return [host, Assembly.GetEntryAssembly()!.Location];
        return [host];
    }

    private static void Line(StringBuilder s, string option, string value) =>
        s.Append("#SBATCH ").Append(option).Append('=').Append(value.Contains(' ') ? Quote(value) : value).Append('\n');

    private static string Quote(string s) =>
        s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '-' or '_' or '=' or ':' or ',' or '+' or '%')
            ? s : "'" + s.Replace("'", "'\\''") + "'";
}
