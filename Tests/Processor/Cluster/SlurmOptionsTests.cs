using System.CommandLine;
using Microsoft.Extensions.Configuration;
using WsiSegment.Processor.Cluster;
using WsiSegment.Processor.Commands;

namespace WsiSegment.Tests.Processor.Cluster;

/// <summary>The #SBATCH fields are declared once: `watch --executor slurm` maps them onto "Watch:Slurm", whose
/// record is the same <see cref="SbatchResources"/> `cluster submit` renders.</summary>
public class SlurmOptionsTests
{
    [Fact]
    public void Watch_slurm_options_reach_the_sbatch_script_through_the_configuration()
    {
        var set = new SlurmExecutorOptionSet();
        var cmd = new Command("watch");
        set.AddTo(cmd);
        var values = new Dictionary<string, string?>();
        set.Map(cmd.Parse(["--executor", "slurm", "-p", "gpu", "--cpus-per-task", "4", "--sbatch-arg=--qos=short", "--sbatch-arg", "--nice=5", "--max-jobs", "3"]), values);
        Assert.Equal("slurm", values[SlurmExecutorOptionSet.ExecutorKey]);
        Assert.False(values.ContainsKey(SlurmWatchOptions.Section + ":Gres")); // not given: left to other sources

        var options = new ConfigurationBuilder().AddInMemoryCollection(values).Build()
            .GetSection(SlurmWatchOptions.Section).Get<SlurmWatchOptions>()!;
        Assert.Equal(("gpu", 4, 3), (options.Partition, options.CpusPerTask, options.MaxJobs));
        Assert.Equal(["--qos=short", "--nice=5"], options.SbatchArgs);

        var submit = options.ToSubmitOptions("one-slide");
        var script = SbatchScript.Render(new ClusterJob { Name = "one-slide", OutDir = "/out", Slides = 1, SlidesPerTask = 1, ModelHash = "sha256:0" }, submit, "/out/.cluster/one-slide", ["wsi-segment"]);
        foreach (var line in new[] { "#SBATCH --partition=gpu", "#SBATCH --cpus-per-task=4", "#SBATCH --qos=short", "#SBATCH --nice=5" })
            Assert.Contains(line, script);
    }

    [Fact]
    public void Bad_cpus_are_refused_the_same_way_for_both()
    {
        var e = Assert.Throws<ArgumentException>(() => new SlurmWatchOptions { CpusPerTask = 0 }.ToSubmitOptions("x"));
        Assert.Contains("--cpus-per-task 0", e.Message);
        Assert.Throws<ArgumentException>(() => new SubmitOptions { Resources = new SbatchResources { CpusPerTask = 0 } }.Validate());
    }
}
