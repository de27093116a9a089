namespace WsiSegment.Processor.Cluster;

/// <summary>What `cluster submit` asks of Slurm, validated once at the boundary.</summary>
public sealed record SubmitOptions
{
    public int SlidesPerTask { get; init; } = 8;
    /// <summary>Most array tasks running at once (the %LIMIT of --array).</summary>
    public int MaxRunning { get; init; } = 64;
    public string? JobName { get; init; }
    public SbatchResources Resources { get; init; } = new();
    public int MaxRequeues { get; init; } = 3;

    public SubmitOptions Validate()
    {
        if (SlidesPerTask < 1) throw new ArgumentException($"--slides-per-task {SlidesPerTask}: must be at least 1");
        if (MaxRunning < 1) throw new ArgumentException($"--max-running {MaxRunning}: must be at least 1");
        Resources.ValidateResources();
        if (MaxRequeues < 0) throw new ArgumentException($"--max-requeues {MaxRequeues}: must be 0 or more");
        if (JobName is { } n && (n.Length == 0 || n.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))))
            throw new ArgumentException($"--job-name {n}: use letters, digits, '-', '_' and '.' only");
        return this;
    }
}
