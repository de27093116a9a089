namespace WsiSegment.Processor.Segmentation;

/// <summary>The `SLIDE.json` report: what was analysed, with what, how, and what came out. Written last.</summary>
public sealed record SegmentReport
{
    public required SlideSection Slide { get; init; }
    public required ModelSection Model { get; init; }
    public required AnalysisSection Analysis { get; init; }
    public required IReadOnlyList<ClassArea> Classes { get; init; }
    public double? TissueAreaMm2 { get; init; }
    public required PatchCounts Patches { get; init; }
    public required IReadOnlyDictionary<string, double> StageSeconds { get; init; }
    /// <summary>The streaming part (read → infer → stitch): how long it took and where inference stood idle.</summary>
    public StreamSection? Stream { get; init; }
    public double TotalSeconds { get; init; }
    /// <summary>CPU time (user + system, all threads) the process spent on this slide: with TotalSeconds, how busy the cores were.</summary>
    public double CpuSeconds { get; init; }
    public double MegapixelsPerSecond { get; init; }
    public long PeakRssBytes { get; init; }
    public required RuntimeSection Runtime { get; init; }
    /// <summary>With `--precision auto`: fp32 and bf16 timed on the first batch, their label agreement and the choice (absent otherwise).</summary>
    public PrecisionAutoSection? PrecisionAuto { get; init; }
    /// <summary>The Slurm job, array task, node and requeue count when run under Slurm (absent otherwise).</summary>
    public Cluster.SlurmEnvironment? Slurm { get; init; }
    public required IReadOnlyDictionary<string, string> Outputs { get; init; }
    public required string Software { get; init; }
    /// <summary>What the user should know about this result (fragmented GeoJSON, sparse tiles in the slide...).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
    public DateTimeOffset Finished { get; init; }

    public sealed record SlideSection(string Path, string Sha256, string Format, int Width, int Height, double? Mpp, long FileBytes);

    public sealed record ModelSection(string Path, string Hash, string Architecture, int P, int Q, double? TrainedMpp, string? Description);

    public sealed record AnalysisSection(
        int Level, double LevelDownsample, double Scale, double DownsampleToLevel0, double? Mpp, string MppSource,
        int Width, int Height, int Tile, int Overlap, int BatchSize, string Blend, string Device, string Precision, bool TissueMask);

    public sealed record ClassArea(int Id, string Name, string Colour, long Pixels, double? AreaMm2, double Fraction);

    public sealed record PatchCounts(int Total, int Run, int Skipped);

    /// <summary>Seconds: the stream's wall time; inference idle while the pipeline filled (before its first batch),
    /// waiting for patches after that (reading fell behind), and waiting to hand scores to the stitcher.</summary>
    public sealed record StreamSection(double Seconds, double InferenceFillSeconds, double InferenceWaitedForPatchesSeconds,
        double InferenceWaitedForStitcherSeconds);

    /// <summary>What the figures above depend on: intra-op threads, whether glibc's allocator was tuned, and its arena
    /// limit (MALLOC_ARENA_MAX; "1" when the single-arena re-exec ran).</summary>
    /// <summary>Milliseconds per forward of the first batch (the fastest of two runs each) and the fraction of its pixels whose labels agree.</summary>
    public sealed record PrecisionAutoSection(string Chosen, double? Fp32Ms, double? Bf16Ms, double? LabelAgreement, string Reason)
    {
        public static PrecisionAutoSection? Of(WsiSegment.Model.Inference.PrecisionDecision? d) => d is null ? null
            : new(d.Chosen.ToString().ToLowerInvariant(), d.Comparison?.Fp32Ms, d.Comparison?.Bf16Ms,
                d.Comparison is { } c ? Math.Round(c.LabelAgreement, 6) : null, d.Reason);
    }

    public sealed record RuntimeSection(int Threads, int Cores, bool AllocatorTuned, string? MallocArenaMax, bool FlushDenormals);
}
