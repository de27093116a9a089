using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Segmentation;
using WsiSegment.Stitching.Output;

namespace WsiSegment.Processor.Watch;

/// <summary>
/// The watch service's job: the real <see cref="SlideSegmenter"/>, with the model loaded once when the worker starts.
/// Its analysis options come from the configuration section "Watch:Segment" (the same names as
/// <see cref="SegmentOptions"/>; the command line's `--model`, `--mpp`, … are mapped onto it).
/// </summary>
public sealed class SegmenterJob : ISlideJob
{
    public const string Section = WatchOptions.Section + ":Segment";

    private readonly SlideSegmenter _segmenter;

    private SegmenterJob(SlideSegmenter segmenter)
    {
        _segmenter = segmenter;
        ClassNames = segmenter.Card.Classes.Select(c => c.Name).ToList();
    }

    public static SegmenterJob Create(IConfiguration configuration, ILoggerFactory logs)
    {
        SegmentOptions options;
        try
        {
            options = (configuration.GetSection(Section).Get<SegmentOptions>() ?? new SegmentOptions()).Validate();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new UserError($"{Section}: {e.Message}", e);
        }
        return new SegmenterJob(SlideSegmenter.Create(options, logs));
    }

    public string ModelHash => _segmenter.ModelHash;

    public IReadOnlyList<string> ClassNames { get; }

    public async Task<SlideJobResult> RunAsync(string slidePath, string outDir, IProgress<PipelineProgress>? progress, CancellationToken ct)
    {
        var report = await _segmenter.SegmentAsync(slidePath, outDir, progress, ct);
        return new SlideJobResult(
            SlideOutputs.For(slidePath, outDir).Report,
            report.Slide.Sha256,
            report.Classes.Select(c => c.AreaMm2 ?? double.NaN).ToList());
    }

    public void Dispose() => _segmenter.Dispose();
}
