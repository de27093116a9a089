using System.Diagnostics;
using NetVips;
using WsiSegment.Tests.Support;
using WsiSegment.Tiling.Grid;
using WsiSegment.Tiling.Resolution;
using WsiSegment.Tiling.Slides;
using Xunit.Abstractions;

namespace WsiSegment.Tests.Tiling;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryCollection
{
    /// <summary>Process-wide memory is measured, or the GC stormed: nothing else may run meanwhile.</summary>
    public const string Name = "memory (runs alone)";
}

[Collection(MemoryCollection.Name)]
public class BandReaderMemoryTests(ITestOutputHelper output)
{
    /// <summary>
    /// Streams every patch of a generated 8000×8000 tiled JPEG TIFF (192 MB of RGB; WSI_TILING_BENCH=WxH to change the
    /// size, e.g. 10000x12000 for the benchmark) and checks that memory stays bounded by a band, not the slide.
    /// </summary>
    [Fact]
    public void Reading_all_bands_of_a_large_slide_keeps_memory_bounded()
    {
        var (width, height) = Size();
        using var dir = new TempDir("mem");
        string path = dir.File("large.tif");
        var generate = Stopwatch.StartNew();
        using (var noise = Image.Gaussnoise(width / 16, height / 16, mean: 160, sigma: 50))
        using (var smooth = noise.Resize(16, kernel: Enums.Kernel.Linear))
        using (var green = smooth.Linear([0.6], [0.0]))
        using (var blue = smooth.Linear([0.9], [20.0]))
        using (var rgb = smooth.Bandjoin(green, blue))
        using (var u8 = rgb.Cast(Enums.BandFormat.Uchar))
            u8.Tiffsave(path, tile: true, tileWidth: 256, tileHeight: 256, compression: Enums.ForeignTiffCompression.Jpeg, q: 85,
                bigtiff: true, resunit: Enums.ForeignTiffResunit.Cm, xres: 2000, yres: 2000);
        output.WriteLine($"generated {width}x{height} in {generate.Elapsed.TotalSeconds:0.0}s, {new FileInfo(path).Length / 1e6:0.0} MB");

        using var slide = SlideSource.Open(path);
        // WSI_TILING_BENCH_MPP=0.6 measures the Lanczos resample path (scale 1.2) instead of the level as is.
        double target = double.TryParse(Environment.GetEnvironmentVariable("WSI_TILING_BENCH_MPP"), System.Globalization.CultureInfo.InvariantCulture, out var t) ? t : 0.5;
        var plan = ResolutionPlanner.Plan(slide, new ResolutionOptions { TargetMpp = target });
        using var analysis = AnalysisImage.Open(slide, plan);
        var grid = new PatchGrid(plan.Width, plan.Height, new PatchGridOptions()); // 1024 / 128
        using var reader = new BandReader(analysis, grid);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        long rssStart = Rss(), managedPeak = 0, rssPeak = rssStart, rssAfterTwoBands = 0;
        var perBand = new List<long>();
        var clock = Stopwatch.StartNew();
        long bytes = 0, checksum = 0;
        var progress = new SyncProgress<BandProgress>(p =>
        {
            long rss = Rss();
            perBand.Add(rss);
            rssPeak = Math.Max(rssPeak, rss);
            managedPeak = Math.Max(managedPeak, GC.GetTotalMemory(false));
            if (p.BandsDone == 2) rssAfterTwoBands = rss;
        });
        foreach (var patch in reader.ReadPatches(progress))
            using (patch)
            {
                bytes += patch.Rgb.Length;
                checksum += patch.Rgb.Span[patch.Rgb.Length / 2]; // touch the pixels
            }
        double seconds = clock.Elapsed.TotalSeconds;
        Assert.True(checksum > 0);

        double mb = 1024.0 * 1024;
        output.WriteLine($"{grid.Count} patches ({grid.Cols}x{grid.Rows}), {bytes / mb:0} MB of patches in {seconds:0.00}s = {bytes / mb / seconds:0} MB/s of patches, " +
                         $"{(double)plan.Width * plan.Height / 1e6 / seconds:0.0} MP/s of analysis image (scale {plan.Scale:0.##}); chunk {reader.ChunkColumns} patches");
        output.WriteLine($"RSS start {rssStart / mb:0} MB, peak {rssPeak / mb:0} MB (+{(rssPeak - rssStart) / mb:0}), after band 2 {rssAfterTwoBands / mb:0} MB, end {perBand[^1] / mb:0} MB; managed peak {managedPeak / mb:0} MB");

        output.WriteLine("RSS after each band (MB): " + string.Join(" ", perBand.Select(r => (r / mb).ToString("0"))));
        Assert.True(rssPeak - rssStart < 400 * mb, $"RSS grew by {(rssPeak - rssStart) / mb:0} MB while streaming");
        Assert.True(perBand[^1] - rssAfterTwoBands < 100 * mb, $"RSS kept growing with the bands: {rssAfterTwoBands / mb:0} → {perBand[^1] / mb:0} MB");
        Assert.True(managedPeak < 300 * mb, $"managed heap reached {managedPeak / mb:0} MB");
    }

    private static (int Width, int Height) Size()
    {
        var env = Environment.GetEnvironmentVariable("WSI_TILING_BENCH");
        if (string.IsNullOrEmpty(env)) return (8000, 8000);
        var parts = env.Split('x');
        return (int.Parse(parts[0]), int.Parse(parts[1]));
    }

    private static long Rss()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        return Environment.WorkingSet;
    }
}
