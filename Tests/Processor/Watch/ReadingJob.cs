using System.Text.Json;
using WsiSegment.Processor.Segmentation;
using WsiSegment.Processor.Watch;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Tests.Processor.Watch;

/// <summary>
/// A real slide job for the service's own tests, independent of the model: opens and decodes the slide with
/// SlideSource (so bad input fails as it does in segmentation), reports progress over a set time, and writes a
/// report (slide hash, model hash, tissue-free fraction) through OutputStaging with the report last, as the
/// segmenter does. It can be told to fail with an I/O error on its first attempts, to exercise retries.
/// </summary>
public sealed class ReadingJob(TimeSpan duration, int ioFailures = 0, string modelHash = "test-model-1") : ISlideJob
{
    private int _ioFailures = ioFailures;
    private int _runs;

    public int Runs => _runs;
    public string ModelHash => modelHash;
    public IReadOnlyList<string> ClassNames { get; } = ["background", "tissue"];

    public async Task<SlideJobResult> RunAsync(string slidePath, string outDir, IProgress<PipelineProgress>? progress, CancellationToken ct)
    {
        Interlocked.Increment(ref _runs);
        if (Interlocked.Decrement(ref _ioFailures) >= 0) throw new IOException($"{slidePath}: simulated disk hiccup");
        string stem = Path.GetFileNameWithoutExtension(slidePath);
        using var staging = new OutputStaging(outDir, stem);
        double white;
        long pixels;
        using (var slide = SlideSource.Open(slidePath))
        {
            slide.Verify();
            var level = slide.Levels[^1];
            var rgb = new byte[level.Width * level.Height * 3];
            slide.ReadRegion(level.Index, 0, 0, level.Width, level.Height, rgb);
            pixels = (long)level.Width * level.Height;
            long w = 0;
            for (int i = 0; i < rgb.Length; i += 3) if (rgb[i] > 220 && rgb[i + 1] > 220 && rgb[i + 2] > 220) w++;
            white = (double)w / pixels;
        }
        const int steps = 10;
        for (int s = 1; s <= steps; s++)
        {
            await File.AppendAllTextAsync(staging.Staged(stem + ".progress.txt"), $"step {s}\n", ct);
            await Task.Delay(duration / steps, ct);
            progress?.Report(new PipelineProgress(slidePath, "segment", s, steps, s / Math.Max(duration.TotalSeconds, 1e-3)));
        }
        string sha = await FileHash.Sha256Async(slidePath, ct);
        var report = new { slide = new { path = slidePath, sha256 = sha }, model = new { hash = modelHash }, whiteFraction = white };
        await File.WriteAllTextAsync(staging.Staged(stem + ".json"), JsonSerializer.Serialize(report), ct);
        staging.Commit([stem + ".progress.txt", stem + ".json"]);
        double mm2 = pixels * 0.25e-6;
        return new SlideJobResult(Path.Combine(outDir, stem + ".json"), sha, [mm2 * white, mm2 * (1 - white)]);
    }

    public void Dispose() { }
}
