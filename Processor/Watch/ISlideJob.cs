using WsiSegment.Processor.Segmentation;

namespace WsiSegment.Processor.Watch;

/// <summary>
/// What the watch service runs for each slide: segmentation with a model loaded once. Implementations stage their
/// outputs and move them into place only when complete (nothing left on failure or cancellation), write
/// OUTDIR/STEM.json last, and throw <c>SlideException</c> for bad input, <see cref="IOException"/> or
/// <see cref="OutOfMemoryException"/> for trouble worth retrying.
/// </summary>
public interface ISlideJob : IDisposable
{
    /// <summary>Hash of the loaded model, as recorded in the reports' model.hash.</summary>
    string ModelHash { get; }

    /// <summary>Class names in label order (the per-class area columns of summary.csv).</summary>
    IReadOnlyList<string> ClassNames { get; }

    Task<SlideJobResult> RunAsync(string slidePath, string outDir, IProgress<PipelineProgress>? progress, CancellationToken ct);
}

/// <summary>What one segmented slide produced: its report and the area of each class (mm², label order).</summary>
public sealed record SlideJobResult(string ReportPath, string SlideSha256, IReadOnlyList<double> ClassAreasMm2);

/// <summary>A job that runs slides in a process of its own: the claim records that process's pid for each attempt.</summary>
public interface IProcessBoundJob
{
    /// <summary>The pid of the process that will run the next attempt, started first if there is none.</summary>
    ValueTask<int> ReadyWorkerAsync(CancellationToken ct);
}
