using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using WsiSegment.Core.Blending;
using WsiSegment.Core.Grid;
using WsiSegment.Core.Scores;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Commands;
using WsiSegment.Stitching.Blending;

namespace WsiSegment.Processor.Bench;

/// <summary>
/// `wsi-segment bench stitch`: megapixels/s of model output the band accumulator blends and reduces to labels, per
/// score kind and blend mode, on one thread (as segment runs it), for a grid of tiles with their overlaps. Compare the
/// figure with `bench model`'s MP/s: the stitcher must stay well ahead of the model. CPU seconds are printed beside
/// the wall clock because on a shared machine the wall clock measures the neighbours too.
/// </summary>
public static class StitchBenchmark
{
    public static Command Create()
    {
        var tile = new Option<int>("--tile") { Description = "Tile edge in pixels.", DefaultValueFactory = _ => 1024 };
        var overlap = new Option<int>("--overlap") { Description = "Overlap between tiles in pixels.", DefaultValueFactory = _ => 64 };
        var classes = new Option<int>("--classes") { Description = "Classes per score map.", DefaultValueFactory = _ => 8 };
        var grid = new Option<string>("--grid") { Description = "Tiles across × down.", DefaultValueFactory = _ => "4x3" };
        var modes = new Option<string>("--modes") { Description = "Comma list of blend modes.", DefaultValueFactory = _ => "gaussian,average" };
        var cmd = new Command("stitch", "Megapixels/s of model output blended and reduced to labels by the band accumulator, per score kind and blend mode.")
            { tile, overlap, classes, grid, modes };
        cmd.SetAction((parse, ct) => CommandRunner.RunAsync(parse, "bench stitch", ct, (_, token) =>
        {
            int t = parse.GetValue(tile), o = parse.GetValue(overlap), k = parse.GetValue(classes);
            var (cols, rows) = ParseGrid(parse.GetValue(grid)!);
            if (k is < 2 or > 255) throw new UserError($"--classes {k}: use 2 to 255");
            TileLayout layout;
            try { layout = new TileLayout(cols * (t - o) + o, rows * (t - o) + o, t, o); }
            catch (ArgumentException e) { throw new UserError($"--tile {t} --overlap {o}: {e.Message}", e); }
            var blendModes = parse.GetValue(modes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(m => Enum.TryParse<BlendMode>(m, ignoreCase: true, out var b) ? b
                    : throw new UserError($"--modes {m}: use {string.Join(", ", Enum.GetNames<BlendMode>().Select(n => n.ToLowerInvariant()))}")).ToList();

            var scores = new float[k * t * t];
            var rng = new Random(3);
            for (int i = 0; i < scores.Length; i++) scores[i] = (float)rng.NextDouble();
            Console.WriteLine($"bench stitch: {layout.Cols}×{layout.Rows} tiles of {t}² with {o} overlap ({layout.Width}×{layout.Height} px), {k} classes, one thread, cores {Environment.ProcessorCount}");
            Console.WriteLine($"{"scores",-14} {"blend",-9} {"seconds",8} {"cpu-s",7} {"MP/s",7}");
            foreach (var kind in new[] { ScoreKind.Probabilities, ScoreKind.Logits })
                foreach (var mode in blendModes)
                {
                    token.ThrowIfCancellationRequested();
                    var (seconds, cpuSeconds) = Run(layout, k, new ScoreLayout(kind, k), mode, scores);
                    double mp = (double)layout.Count * t * t / 1e6;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{kind.ToString().ToLowerInvariant(),-14} {mode.ToString().ToLowerInvariant(),-9} {seconds,8:0.00} {cpuSeconds,7:0.00} {mp / seconds,7:0.0}"));
                }
            return Task.FromResult(CommandRunner.Ok);
        }));
        return cmd;
    }

    private static (double Seconds, double CpuSeconds) Run(TileLayout layout, int classes, ScoreLayout scoreLayout, BlendMode mode, float[] scores)
    {
        using (var warm = new BandAccumulator(layout, classes, new DiscardingSink(), mode))
            warm.Aggregate(0, 0, scores, scoreLayout); // JIT and window tables out of the timing
        using var acc = new BandAccumulator(layout, classes, new DiscardingSink(), mode);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        for (int r = 0; r < layout.Rows; r++)
            for (int c = 0; c < layout.Cols; c++)
                acc.Aggregate(r, c, scores, scoreLayout);
        acc.Complete();
        return (sw.Elapsed.TotalSeconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
    }

    private static (int Cols, int Rows) ParseGrid(string s)
    {
        var (c, r) = SynthCommand.ParseSize(s, "--grid");
        return c > 0 && r > 0 && (long)c * r <= 400 ? (c, r) : throw new UserError($"--grid {s}: use COLSxROWS, at most 400 tiles");
    }

    /// <summary>Labels go nowhere: the benchmark times blending and the argmax, not a disk.</summary>
    private sealed class DiscardingSink : ILabelSink
    {
        public void Write(int x, int y, int width, int height, ReadOnlySpan<byte> labels) { }
    }
}
