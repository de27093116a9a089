using System.Diagnostics;
using System.Globalization;
using WsiSegment.Tests.Support;
using static WsiSegment.Tests.Processor.Cluster.ClusterJobs;

namespace WsiSegment.Tests.Processor.Cluster;

/// <summary>Tasks that die: SIGKILL mid-slide, and a node lost mid-array. Both are requeued and nothing is lost,
/// duplicated or half-written.</summary>
[Collection(SlurmCollection.Name)]
public sealed class ClusterRequeueTests(SlurmCluster cluster)
{
    [SlurmFact]
    public void A_task_killed_mid_slide_is_requeued_and_the_slide_redone_with_nothing_half_written()
    {
        cluster.EnsureUp();
        using var dir = new TempDir("clusterkill");
        // A first slide large enough to be caught mid-way, a small second one.
        var slides = Phantoms(Path.Combine(dir.Path, "slides"), 1, 3000, 3000, firstSeed: 31)
            .Concat(Phantoms(Path.Combine(dir.Path, "slides"), 1, 800, 640, firstSeed: 32)).ToList();
        string outDir = Path.Combine(dir.Path, "out");
        string job = Submit(outDir, "kill", 2, slides);

        // The first slide's staging folder is named after the segmenting process: kill that process mid-slide.
        string stem = Path.GetFileNameWithoutExtension(slides[0]);
        string? staging = null;
        SlurmCluster.WaitUntil(() => (staging = Directory.Exists(outDir) ? Directory.GetDirectories(outDir, $".staging-{stem}-*").FirstOrDefault() : null) is not null,
            TimeSpan.FromMinutes(2), "the first slide to be in progress");
        int pid = int.Parse(Path.GetFileName(staging!)[$".staging-{stem}-".Length..].Split('-')[0], CultureInfo.InvariantCulture);
        Assert.False(File.Exists(Path.Combine(outDir, stem + ".json")));
        Process.GetProcessById(pid).Kill(); // SIGKILL
        cluster.WaitForEnd(job, TimeSpan.FromMinutes(4));

        var task = Assert.Single(cluster.Tasks(job));
        Assert.Equal("COMPLETED", task.State);
        Assert.True(task.RestartCount >= 1, $"restart count {task.RestartCount}");
        using var report = AssertValidOutputs(outDir, slides[0]);
        Assert.True(SlurmOf(report).GetProperty("restartCount").GetInt32() >= 1);
        AssertValidOutputs(outDir, slides[1]).Dispose();
        AssertNothingPartial(outDir);
        string logs = Logs(outDir, "kill");
        Assert.Equal(1, CountLines(logs, $"slide {slides[0]}: done"));
        Assert.Equal(1, CountLines(logs, $"slide {slides[1]}: done"));
        using var status = Status(outDir, out int code);
        Assert.Equal(0, code);
        Assert.Equal(2, status.RootElement.GetProperty("counts").GetProperty("done").GetInt32());
    }

    [SlurmFact]
    public void Tasks_on_a_lost_node_are_requeued_and_finish_on_the_other()
    {
        cluster.EnsureUp();
        using var dir = new TempDir("clusternode");
        var slides = Phantoms(Path.Combine(dir.Path, "slides"), 6, 2400, 2400, firstSeed: 41);
        string outDir = Path.Combine(dir.Path, "out");
        string job = Submit(outDir, "nodeloss", 2, slides);
        try
        {
            // Wait until n2 is busy on a slide (its staging folder exists), then kill its slurmd and its job's processes.
            SlurmCluster.WaitUntil(() => cluster.Tasks(job).Any(t => t is { State: "RUNNING", Node: "n2" })
                && Directory.Exists(outDir) && Directory.GetDirectories(outDir, ".staging-*").Length > 0,
                TimeSpan.FromMinutes(2), "a task running on n2");
            var onN2 = cluster.Tasks(job).Where(t => t is { State: "RUNNING", Node: "n2" }).ToList();
            KillNode("n2", onN2.Select(t => t.JobId).ToHashSet());
            cluster.WaitForEnd(job, TimeSpan.FromMinutes(4));

            var tasks = cluster.Tasks(job);
            Assert.All(tasks, t => Assert.Equal("COMPLETED", t.State));
            foreach (var lost in onN2)
            {
                var t = tasks.Single(x => x.TaskId == lost.TaskId);
                Assert.True(t.RestartCount >= 1, $"task {t.TaskId} restart count {t.RestartCount}");
                Assert.Equal("n1", t.Node);
            }
            string logs = Logs(outDir, "nodeloss");
            foreach (var s in slides)
            {
                using var report = AssertValidOutputs(outDir, s);
                Assert.Equal(1, CountLines(logs, $"slide {s}: done"));
            }
            AssertNothingPartial(outDir);
            using var status = Status(outDir, out int code);
            Assert.Equal(0, code);
            Assert.Equal(6, status.RootElement.GetProperty("counts").GetProperty("done").GetInt32());
        }
        finally
        {
            cluster.Restore();
        }
    }

    /// <summary>What a dead machine looks like: its slurmd gone (SIGKILL, no goodbye to the controller) and the
    /// processes of its job steps with it.</summary>
    private void KillNode(string node, IReadOnlySet<string> jobIds)
    {
        int slurmd = int.Parse(File.ReadAllText(cluster.PidFile(node)).Trim(), CultureInfo.InvariantCulture);
        Process.GetProcessById(slurmd).Kill();
        foreach (var proc in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out int pid)) continue;
            string cmdline, environ;
            try
            {
                cmdline = File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' ');
                environ = File.ReadAllText(Path.Combine(proc, "environ"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            var env = environ.Split('\0');
            bool step = jobIds.Any(j => cmdline.StartsWith($"slurmstepd: [{j}.", StringComparison.Ordinal));
            bool inJob = env.Contains($"SLURMD_NODENAME={node}") && env.Any(v => v.StartsWith("SLURM_JOB_ID=", StringComparison.Ordinal) && jobIds.Contains(v["SLURM_JOB_ID=".Length..]));
            if (!step && !inJob) continue;
            try { Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
        }
    }
}
