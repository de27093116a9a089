using System.Globalization;

namespace WsiSegment.Processor.Cluster;

/// <summary>
/// What Slurm tells a job step through its environment. Read once per use; null outside a Slurm job. The report
/// records it so that a result can be traced to the job, task, node and requeue that made it.
/// </summary>
public sealed record SlurmEnvironment(
    string JobId,
    string? ArrayJobId,
    int? ArrayTaskId,
    string? Node,
    int RestartCount,
    int? CpusPerTask,
    string? CudaVisibleDevices)
{
    public static SlurmEnvironment? Current => From(Environment.GetEnvironmentVariable);

    public static SlurmEnvironment? From(Func<string, string?> env)
    {
        string? job = env("SLURM_JOB_ID");
        if (string.IsNullOrEmpty(job)) return null;
        return new SlurmEnvironment(job, Empty(env("SLURM_ARRAY_JOB_ID")), Int(env("SLURM_ARRAY_TASK_ID")),
            Empty(env("SLURMD_NODENAME")), Int(env("SLURM_RESTART_COUNT")) ?? 0, Int(env("SLURM_CPUS_PER_TASK")),
            Empty(env("CUDA_VISIBLE_DEVICES")));
    }

    /// <summary>The CPUs Slurm gave this task (SLURM_CPUS_PER_TASK), to size the inference threads; null outside Slurm.</summary>
    public static int? CpusPerTaskNow => Int(Environment.GetEnvironmentVariable("SLURM_CPUS_PER_TASK")) is > 0 and var n ? n : null;

    private static string? Empty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static int? Int(string? s) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : null;
}
