namespace WsiSegment.Processor.Cluster;

/// <summary>The watch service's Slurm executor settings (configuration section "Watch:Slurm"; the command line's
/// --partition, --gres, … are mapped onto it): the <see cref="SbatchResources"/> of each slide's job, and how many
/// are followed at once.</summary>
public sealed record SlurmWatchOptions : SbatchResources
{
    public const string Section = Watch.WatchOptions.Section + ":Slurm";

    /// <summary>Most slides submitted and followed at once (each its own job; the scheduler decides what runs).</summary>
    public int MaxJobs { get; init; } = 16;
    /// <summary>Seconds between looks at a running job.</summary>
    public double PollSeconds { get; init; } = 1;

    public SubmitOptions ToSubmitOptions(string jobName) => MaxJobs < 1 ? throw new ArgumentException($"MaxJobs {MaxJobs}: must be at least 1") : new SubmitOptions
    {
        SlidesPerTask = 1, MaxRunning = 1, JobName = jobName, Resources = this,
    }.Validate();
}
