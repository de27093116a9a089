using System.Text.Json;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Segmentation;
using WsiSegment.Stitching.Output;

namespace WsiSegment.Processor.Bench;

/// <summary>`segment` of one slide in a child process (its own peak RSS), and the report it wrote.</summary>
public static class ChildSegment
{
    public sealed record Result(SegmentReport Report, SlideOutputs Outputs, TimeSpan Elapsed);

    /// <summary>Runs `segment SLIDE -o OUTDIR --quiet OPTIONS…`; a failure says <paramref name="what"/> and the child's stderr.</summary>
    public static async Task<Result> RunAsync(string slide, string outDir, IEnumerable<string> options, string what, CancellationToken ct)
    {
        var r = await SelfProcess.RunAsync(["segment", slide, "-o", outDir, "--quiet", .. options], ct);
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"segment of {what} failed: {r.Stderr.Trim()}");
        var outputs = SlideOutputs.For(slide, outDir);
        var report = JsonSerializer.Deserialize<SegmentReport>(await File.ReadAllTextAsync(outputs.Report, ct), JsonOutput.Options)
            ?? throw new InvalidOperationException(outputs.Report + ": empty report");
        return new Result(report, outputs, r.Elapsed);
    }
}
