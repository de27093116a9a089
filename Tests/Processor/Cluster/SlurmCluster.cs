using WsiSegment.Processor.Cluster;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Cluster;

/// <summary>
/// The real two-node Slurm cluster of scripts/slurm-test-cluster.sh: the one scripts/test.sh started
/// (WSI_SLURM_TEST_DIR), or, for a developer's `dotnet test`, one started here and stopped at the end. Outside CI,
/// without Slurm installed, the tests that need it are skipped with the reason; under CI they run and fail.
/// </summary>
public sealed class SlurmCluster : IDisposable
{
    private readonly bool _ownCluster;
    private readonly string? _startError;

    public SlurmCluster()
    {
        string? dir = Environment.GetEnvironmentVariable("WSI_SLURM_TEST_DIR");
        _startError = Environment.GetEnvironmentVariable("WSI_SLURM_START_ERROR");
        if (dir is null && _startError is null && SkipReason is null)
        {
            dir = Path.Combine(Path.GetTempPath(), $"wsiseg-slurm-{Environment.ProcessId}");
            var r = Tool.Run("bash", [Script, "start", dir], TimeSpan.FromMinutes(20));
            if (r.ExitCode != 0) _startError = $"{Script} start {dir} failed: {r.Stderr}{r.Stdout}";
            else _ownCluster = true;
        }
        Dir = dir ?? "";
        if (Dir.Length > 0 && _startError is null)
            Environment.SetEnvironmentVariable("SLURM_CONF", Path.Combine(Dir, "slurm.conf"));
    }

    public static string Script => Path.Combine(Repo.Root, "scripts", "slurm-test-cluster.sh");

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Why the Slurm tests cannot run here (only outside CI, only without Slurm), else null.</summary>
    public static string? SkipReason =>
        IsCi || File.Exists("/usr/sbin/slurmctld") ? null : "Slurm is not installed (slurm-wlm; scripts/test.sh installs it as root and starts a test cluster)";

    public string Dir { get; }

    /// <summary>Throws with the start error when the cluster is not up (so a CI run fails naming why).</summary>
    public void EnsureUp()
    {
        if (_startError is not null) throw new InvalidOperationException("the Slurm test cluster is not running: " + _startError);
        if (Dir.Length == 0) throw new InvalidOperationException("the Slurm test cluster is not running (WSI_SLURM_TEST_DIR unset)");
    }

    public Tool.Result Slurm(string program, params string[] args) => Tool.Run(program, args, TimeSpan.FromSeconds(30));

    public IReadOnlyList<SlurmTask> Tasks(string jobId) => SlurmClient.ParseJobs(Slurm("squeue", "--json").Stdout, jobId);

    /// <summary>Waits for a condition, polling; fails the test naming what it waited for.</summary>
    public static void WaitUntil(Func<bool> condition, TimeSpan timeout, string what) => WaitUntil(condition, timeout, () => what);

    /// <summary>Same, with the description made when it fails (a log as it is then).</summary>
    public static void WaitUntil(Func<bool> condition, TimeSpan timeout, Func<string> what)
    {
        var end = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > end) throw new TimeoutException($"waited {timeout.TotalSeconds:0} s for {what()}");
            Thread.Sleep(100);
        }
    }

    /// <summary>Waits until no task of the job is pending or running; makes requeued tasks eligible at once.</summary>
    public void WaitForEnd(string jobId, TimeSpan timeout)
    {
        WaitUntil(() =>
        {
            var tasks = Tasks(jobId);
            // Slurm holds a requeued task back for ~120 s (BeginTime); tests do not wait for that.
            if (tasks.Any(t => t is { State: "PENDING", Reason: "BeginTime" }))
                Slurm("scontrol", "update", $"JobId={jobId}", "StartTime=now");
            return tasks.Count > 0 && tasks.All(t => !t.IsActive);
        }, timeout, $"job {jobId} to end");
    }

    /// <summary>Placeholder jobs on both nodes, so that the next job stays pending until this is disposed.</summary>
    public IDisposable OccupyNodes()
    {
        var jobs = new[] { "n1", "n2" }.Select(n => Slurm("sbatch", "--parsable", "-w", n, "-o", "/dev/null", "--wrap", "sleep 600").Stdout.Trim()).ToList();
        var occupied = new Occupied(this, jobs);
        try
        {
            WaitUntil(() => jobs.All(j => Tasks(j).Any(t => t.State == "RUNNING")), TimeSpan.FromMinutes(1), "the placeholder jobs to run");
        }
        catch
        {
            occupied.Dispose();
            throw;
        }
        return occupied;
    }

    private sealed class Occupied(SlurmCluster cluster, IReadOnlyList<string> jobs) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            foreach (var j in jobs) cluster.Slurm("scancel", j);
        }
    }

    public string PidFile(string node) => Path.Combine(Dir, "run", $"slurmd.{node}.pid");

    /// <summary>Starts whatever daemon is down again (the script is idempotent) and waits for both nodes to be idle.</summary>
    public void Restore()
    {
        var r = Tool.Run("bash", [Script, "start", Dir], TimeSpan.FromMinutes(2));
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
    }

    public void Dispose()
    {
        if (_ownCluster) Tool.Run("bash", [Script, "stop", Dir], TimeSpan.FromMinutes(2));
    }
}

[CollectionDefinition(Name)]
public sealed class SlurmCollection : ICollectionFixture<SlurmCluster>
{
    public const string Name = "slurm";
}

/// <summary>A fact that needs the Slurm test cluster: skipped, with the reason, only outside CI without Slurm.</summary>
public sealed class SlurmFactAttribute : FactAttribute
{
    public SlurmFactAttribute()
    {
        Skip = SlurmCluster.SkipReason;
    }
}
