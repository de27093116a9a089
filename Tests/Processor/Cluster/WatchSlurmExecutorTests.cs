using System.Text.Json;
using WsiSegment.Tests.Support;
using WsiSegment.Tests.Processor.Watch;
using static WsiSegment.Tests.Processor.Cluster.ClusterJobs;

namespace WsiSegment.Tests.Processor.Cluster;

/// <summary>`watch --executor slurm` end to end on the real test cluster, through a SIGKILL of the service.</summary>
[Collection(SlurmCollection.Name)]
public sealed class WatchSlurmExecutorTests(SlurmCluster cluster)
{
    [SlurmFact]
    public void Slides_go_to_Slurm_and_a_restarted_service_adopts_the_running_job_instead_of_submitting_again()
    {
        cluster.EnsureUp();
        using var dir = new TempDir("watchslurm");
        string gen = Path.Combine(dir.Path, "gen"), inbox = Path.Combine(dir.Path, "in"), outbox = Path.Combine(dir.Path, "out");
        Directory.CreateDirectory(inbox);
        var big = Phantoms(gen, 1, 3000, 3000, firstSeed: 51)[0];
        var small = Phantoms(gen, 5, 800, 640, firstSeed: 52);
        var good = new List<string> { big, small[0], small[1], small[2], small[3] };
        string copying = small[4];
        // Corrupt pixels, intact structure: passes the service's content check, fails in the job on the node.
        string corrupt = Path.Combine(gen, "corrupt.tif");
        var bytes = File.ReadAllBytes(small[0]);
        new Random(5).NextBytes(bytes.AsSpan(bytes.Length / 8, bytes.Length / 2));
        File.WriteAllBytes(corrupt, bytes);

        string[] args = ["--inbox", inbox, "--outbox", outbox, "--executor", "slurm", "--stable-seconds", "1", "--rescan-seconds", "1",
            "--poll-seconds", "0.3", "--model", TestModels.RandomEspNet(), "--tile", "256", "--overlap", "32"];
        // Both nodes busy with placeholder jobs: the big slide's job stays pending until the test lets it run, so it is
        // certainly not finished when the restarted service looks.
        using var busy = cluster.OccupyNodes();
        string jobOfBig;
        using (var first = WatchProcess.Start(args))
        {
            File.Copy(big, Path.Combine(inbox, Path.GetFileName(big)));
            SlurmCluster.WaitUntil(() => first.Log.Contains($"{Path.GetFileName(big)}: submitted as Slurm job"), TimeSpan.FromMinutes(2),
                () => "the big slide's submission\n" + first.Log);
            jobOfBig = System.Text.RegularExpressions.Regex.Match(first.Log, $@"{Path.GetFileName(big)}: submitted as Slurm job (\d+)").Groups[1].Value;
            first.KillHard();
            first.WaitForExit(TimeSpan.FromSeconds(30));
        }
        foreach (var s in new[] { small[0], small[1], small[2], small[3], corrupt })
            File.Copy(s, Path.Combine(inbox, Path.GetFileName(s)));
        using var writer = Task.Run(() => CopySlowly(copying, Path.Combine(inbox, Path.GetFileName(copying))));

        using var second = WatchProcess.Start(args);
        SlurmCluster.WaitUntil(() => second.Log.Contains($"{Path.GetFileName(big)}: following Slurm job {jobOfBig}"), TimeSpan.FromMinutes(2),
            () => "the restarted service to adopt the job\n" + second.Log);
        string claimFile = Path.Combine(inbox, ".claims", Path.GetFileName(big) + ".claim");
        SlurmCluster.WaitUntil(() => File.Exists(claimFile) && File.ReadAllText(claimFile).Contains($"\"executorJob\": \"slurm:{jobOfBig}\""),
            TimeSpan.FromSeconds(30), "the claim to name the job");
        busy.Dispose();
        string done = Path.Combine(inbox, "done"), failed = Path.Combine(inbox, "failed");
        SlurmCluster.WaitUntil(() => Directory.Exists(done) && Directory.GetFiles(done, "*.tif").Length == 6
            && Directory.Exists(failed) && File.Exists(Path.Combine(failed, "corrupt.tif")), TimeSpan.FromMinutes(5), () => "all slides to be dealt with\n" + second.Log);
        writer.Wait();
        second.Terminate();
        Assert.True(second.WaitForExit(TimeSpan.FromSeconds(60)), second.Log);

        foreach (var s in good.Append(copying))
        {
            string stem = Path.GetFileNameWithoutExtension(s), outDir = Path.Combine(outbox, stem);
            Assert.True(File.Exists(Path.Combine(done, Path.GetFileName(s))));
            using var report = AssertValidOutputs(outDir, Path.Combine(done, Path.GetFileName(s)));
            Assert.True(report.RootElement.TryGetProperty("slurm", out _));
            // Submitted once, segmented once: one job for the slide, one "done" in its task logs.
            var jobs = Directory.GetDirectories(Path.Combine(outDir, ".cluster"), "watch-*");
            Assert.Single(jobs);
            Assert.Equal(1, CountLines(Logs(outDir, Path.GetFileName(jobs[0])), ": done"));
            AssertNothingPartial(outDir);
        }
        using var error = JsonDocument.Parse(File.ReadAllText(Path.Combine(failed, "corrupt.error.json")));
        Assert.Contains("corrupt.tif", error.RootElement.GetProperty("reason").GetString());
        Assert.Equal("permanent", error.RootElement.GetProperty("kind").GetString());
        // It failed in its Slurm job on a node (the content check passed it), which recorded why beside the outputs.
        Assert.True(File.Exists(Path.Combine(outbox, "corrupt", "corrupt.error.json")));
        Assert.False(File.Exists(Path.Combine(outbox, "corrupt", "corrupt.json")));
        var summary = File.ReadAllLines(Path.Combine(outbox, "summary.csv"));
        Assert.Contains(summary, l => l.Contains(",corrupt.tif,failed,", StringComparison.Ordinal));
        foreach (var s in good.Append(copying))
            Assert.Contains(summary, l => l.Contains($",{Path.GetFileName(s)},done,", StringComparison.Ordinal) || l.Contains($",{Path.GetFileName(s)},skipped,", StringComparison.Ordinal));
    }

    /// <summary>A slide still being copied: its size changes for a few seconds before it is complete.</summary>
    private static void CopySlowly(string source, string target)
    {
        var bytes = File.ReadAllBytes(source);
        using var s = new FileStream(target, FileMode.CreateNew, FileAccess.Write);
        int chunk = Math.Max(1, bytes.Length / 8);
        for (int off = 0; off < bytes.Length; off += chunk)
        {
            s.Write(bytes, off, Math.Min(chunk, bytes.Length - off));
            s.Flush();
            Thread.Sleep(600);
        }
    }
}
