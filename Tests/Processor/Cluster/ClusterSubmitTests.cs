using System.Diagnostics;
using WsiSegment.Tests.Support;
using WsiSegment.Tests.Processor.Watch;
using static WsiSegment.Tests.Processor.Cluster.ClusterJobs;

namespace WsiSegment.Tests.Processor.Cluster;

/// <summary>`cluster submit` / `run-task` / `status` against the real two-node test cluster.</summary>
[Collection(SlurmCollection.Name)]
public sealed class ClusterSubmitTests(SlurmCluster cluster)
{
    [SlurmFact]
    public void Twelve_slides_over_two_nodes_are_each_done_once_and_a_resubmission_redoes_none()
    {
        cluster.EnsureUp();
        using var dir = new TempDir("cluster12");
        var slides = Phantoms(Path.Combine(dir.Path, "slides"), 12, 800, 640);
        string outDir = Path.Combine(dir.Path, "out");
        string job = Submit(outDir, "twelve", 3, slides);
        cluster.WaitForEnd(job, TimeSpan.FromMinutes(5));

        using var status = Status(outDir, out int code);
        Assert.Equal(0, code);
        Assert.Equal(12, status.RootElement.GetProperty("counts").GetProperty("done").GetInt32());
        Assert.All(SlideStates(status).Values, s => Assert.Equal("done", s));

        string logs = Logs(outDir, "twelve");
        var nodes = new HashSet<string>();
        for (int i = 0; i < slides.Count; i++)
        {
            using var report = AssertValidOutputs(outDir, slides[i]);
            var slurm = SlurmOf(report);
            Assert.Equal(job, slurm.GetProperty("arrayJobId").GetString());
            Assert.Equal(i / 3, slurm.GetProperty("arrayTaskId").GetInt32());
            nodes.Add(slurm.GetProperty("node").GetString()!);
            Assert.Equal(1, CountLines(logs, $"slide {slides[i]}: done"));
        }
        Assert.Equal(["n1", "n2"], nodes.Order());
        AssertNothingPartial(outDir);
        Assert.Equal(12, Directory.GetFiles(outDir, "*.json").Length);

        // Same manifest again: every slide is skipped by hash, no model is even loaded.
        var mtimes = slides.Select(s => File.GetLastWriteTimeUtc(Path.Combine(outDir, Path.GetFileNameWithoutExtension(s) + ".mask.tif"))).ToList();
        var sw = Stopwatch.StartNew();
        string again = Submit(outDir, "again", 3, [], "--manifest", Path.Combine(JobDir(outDir, "twelve"), "manifest.txt"));
        cluster.WaitForEnd(again, TimeSpan.FromMinutes(2));
        double seconds = sw.Elapsed.TotalSeconds;
        string logs2 = Logs(outDir, "again");
        Assert.Equal(12, CountLines(logs2, ": skipped"));
        Assert.Equal(0, CountLines(logs2, ": done"));
        Assert.Equal(0, CountLines(logs2, "Loaded "));
        Assert.Equal(mtimes, slides.Select(s => File.GetLastWriteTimeUtc(Path.Combine(outDir, Path.GetFileNameWithoutExtension(s) + ".mask.tif"))).ToList());
        Assert.True(seconds < 60, $"the all-skipped re-submission took {seconds:0.0} s");
        using var status2 = Status(outDir, out int code2);
        Assert.Equal(0, code2);
        Assert.Equal("again", status2.RootElement.GetProperty("name").GetString());
        Assert.Equal(12, status2.RootElement.GetProperty("counts").GetProperty("done").GetInt32());
    }

    [SlurmFact]
    public void A_corrupt_slide_is_reported_failed_and_not_requeued_while_the_others_of_its_task_are_done()
    {
        cluster.EnsureUp();
        using var dir = new TempDir("clusterbad");
        var good = Phantoms(Path.Combine(dir.Path, "slides"), 2, 800, 640, firstSeed: 21);
        string bad = Path.Combine(dir.Path, "slides", "broken.tif");
        TestSlides.WriteTruncated(good[0], bad, 0.3);
        string outDir = Path.Combine(dir.Path, "out");
        string job = Submit(outDir, "corrupt", 3, [good[0], bad, good[1]]);
        cluster.WaitForEnd(job, TimeSpan.FromMinutes(3));

        using var status = Status(job, out int code);
        Assert.Equal(1, code);
        var states = SlideStates(status);
        Assert.Equal("done", states[Path.GetFileName(good[0])]);
        Assert.Equal("done", states[Path.GetFileName(good[1])]);
        Assert.Equal("failed", states["broken.tif"]);
        var badEntry = status.RootElement.GetProperty("slides").EnumerateArray().Single(s => s.GetProperty("slide").GetString() == bad);
        Assert.Contains("broken.tif", badEntry.GetProperty("reason").GetString());
        Assert.Equal(0, badEntry.GetProperty("requeues").GetInt32());
        Assert.True(File.Exists(Path.Combine(outDir, "broken.error.json")));
        Assert.False(File.Exists(Path.Combine(outDir, "broken.json")));
        // Not requeued: the task ran once and ended FAILED (exit 1, which RequeueExit does not name).
        var task = Assert.Single(cluster.Tasks(job));
        Assert.Equal(0, task.RestartCount);
        Assert.Equal("FAILED", task.State);
        Assert.Equal(1, CountLines(Logs(outDir, "corrupt"), "wsi-segment: task 0 of job"));
        foreach (var s in good) AssertValidOutputs(outDir, s).Dispose();
        AssertNothingPartial(outDir);
    }
}

/// <summary>`cluster submit --dry-run` needs no cluster: the job folder and script it writes.</summary>
public sealed class ClusterDryRunTests
{
    [Fact]
    public void A_dry_run_writes_the_script_and_submits_nothing()
    {
        using var dir = new TempDir("clusterdry");
        var slides = Phantoms(Path.Combine(dir.Path, "slides"), 3, 400, 400);
        string outDir = Path.Combine(dir.Path, "out");
        var r = Tool.WsiSegment(["cluster", "submit", .. slides, "-o", outDir, "--job-name", "dry", "--slides-per-task", "2", "--partition", "debug",
            "--gres", "gpu:1", "--cpus-per-task", "2", "--mem", "4G", "--time", "00:30:00", "--sbatch-arg=--qos=short", "--dry-run"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        foreach (var line in new[] { "#SBATCH --array=0-1%64", "#SBATCH --requeue", "#SBATCH --partition=debug", "#SBATCH --gres=gpu:1",
                     "#SBATCH --cpus-per-task=2", "#SBATCH --mem=4G", "#SBATCH --time=00:30:00", "#SBATCH --qos=short", "cluster run-task" })
            Assert.Contains(line, r.Stdout);
        Assert.Equal(File.ReadAllText(Path.Combine(JobDir(outDir, "dry"), "job.sbatch")), r.Stdout);
        Assert.Equal(slides, File.ReadAllLines(Path.Combine(JobDir(outDir, "dry"), "manifest.txt")));
        using var status = Status(outDir, out int code);
        Assert.Equal(0, code);
        Assert.False(status.RootElement.TryGetProperty("jobId", out _));
        Assert.Equal(3, status.RootElement.GetProperty("counts").GetProperty("pending").GetInt32());
    }
}
