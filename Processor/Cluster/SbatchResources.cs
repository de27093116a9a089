namespace WsiSegment.Processor.Cluster;

/// <summary>What a Slurm job asks for, as #SBATCH lines: the same fields for `cluster submit` (per array task) and
/// for the watch service's Slurm executor (per slide job, configuration section "Watch:Slurm").</summary>
public record SbatchResources
{
    public string? Partition { get; init; }
    public string? Gres { get; init; }
    public int? CpusPerTask { get; init; }
    public string? Mem { get; init; }
    public string? Time { get; init; }
    public string? Account { get; init; }

    /// <summary>Any other sbatch options, each written as an #SBATCH line.</summary>
    public IReadOnlyList<string> SbatchArgs { get; init; } = [];

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public void ValidateResources()
    {
        if (CpusPerTask is < 1) throw new ArgumentException($"--cpus-per-task {CpusPerTask}: must be at least 1");
    }
}
