using WsiSegment.Tests.Support;
using WsiSegment.Tiling.Grid;
using WsiSegment.Tiling.Resolution;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Tests.Tiling;

public class BandReaderTests
{
    /// <summary>libvips' mirror: reflection repeating the edge pixel, periodic (… c b a | a b c … z | z y …).</summary>
    private static int Mirror(int i, int n)
    {
        int period = 2 * n;
        int m = ((i % period) + period) % period;
        return m < n ? m : period - 1 - m;
    }

    private static (string Path, byte[] Rgb) NoiseSlide(TempDir dir, int width, int height, double mpp, int seed = 1)
    {
        var rgb = TilingImages.NoiseBytes(width, height, seed);
        string path = dir.File($"noise{width}x{height}.tif");
        using var img = TilingImages.FromBytes(rgb, width, height);
        // TIFF tiles no larger than the image: OpenSlide 3.4.1 renders a 40×30 image stored in one 128×128 tile as white.
        TilingImages.SavePyramid(img, path, mpp, tile: Math.Min(width, height) >= 128 ? 128 : 16);
        return (path, rgb);
    }

    [Theory]
    [InlineData(700, 500, 256, 32, 48L << 20)]
    [InlineData(700, 500, 256, 32, 1)]            // one patch per libvips read
    [InlineData(40, 30, 64, 8, 48L << 20)]        // smaller than one tile: periodic mirror
    [InlineData(512, 256, 256, 0, 48L << 20)]     // divisible, no overlap, no padding
    public void Patches_reproduce_the_analysis_image_and_mirror_pad_its_borders(int width, int height, int tile, int overlap, long chunkBytes)
    {
        using var dir = new TempDir("band");
        var (path, rgb) = NoiseSlide(dir, width, height, 0.5);
        using var slide = SlideSource.Open(path);
        var plan = ResolutionPlanner.Plan(slide, new ResolutionOptions { TargetMpp = 0.5 });
        Assert.Equal(1.0, plan.Scale);
        using var analysis = AnalysisImage.Open(slide, plan);
        var grid = new PatchGrid(width, height, new PatchGridOptions { Tile = tile, Overlap = overlap });
        using var reader = new BandReader(analysis, grid, options: new BandReaderOptions { MaxChunkBytes = chunkBytes });
        var assembly = new PatchAssembly(grid);
        var bands = new List<BandProgress>();
        var progress = new SyncProgress<BandProgress>(bands.Add);

        foreach (var patch in reader.ReadPatches(progress))
            using (patch)
            {
                Assert.False(patch.Skipped);
                Assert.Equal(tile * tile * 3, patch.Rgb.Length);
                assembly.Add(patch);
            }

        Assert.All(assembly.Written, Assert.True);
        Assert.Equal(0, assembly.Mismatches);
        for (int y = 0; y < grid.PaddedHeight; y++)
            for (int x = 0; x < grid.PaddedWidth; x++)
            {
                int sx = Mirror(x, width), sy = Mirror(y, height);
                int i = (sy * width + sx) * 3;
                var got = assembly.At(x, y);
                if (got != (rgb[i], rgb[i + 1], rgb[i + 2]))
                    Assert.Fail($"padded pixel ({x},{y}) should be source ({sx},{sy}) {rgb[i]},{rgb[i + 1]},{rgb[i + 2]} but is {got}");
            }
        Assert.Equal(Enumerable.Range(1, grid.Rows), bands.Select(b => b.BandsDone));
        Assert.All(bands, b => Assert.Equal(grid.Rows, b.BandsTotal));
        Assert.Equal(grid.Count, bands[^1].PatchesDone);
    }

    [SharedFact]
    public void Sixteen_pixel_svs_becomes_one_mirror_padded_patch()
    {
        string path = Repo.SharedFile("slides", "small.svs");
        using var slide = SlideSource.Open(path);
        var plan = ResolutionPlanner.Plan(slide, new ResolutionOptions { TargetMpp = 0.5 });
        using var analysis = AnalysisImage.Open(slide, plan);
        var grid = new PatchGrid(plan.Width, plan.Height, new PatchGridOptions { Tile = 64, Overlap = 16 });
        Assert.Equal(1, grid.Count);
        using var reader = new BandReader(analysis, grid);
        var truth = new byte[16 * 16 * 3];
        slide.ReadRegion(0, 0, 0, 16, 16, truth);

        using var patch = Assert.Single(reader.ReadPatches());
        var rgb = patch.Rgb.Span;
        for (int y = 0; y < 64; y++)
            for (int x = 0; x < 64; x++)
            {
                int s = (Mirror(y, 16) * 16 + Mirror(x, 16)) * 3, d = (y * 64 + x) * 3;
                Assert.True(rgb.Slice(d, 3).SequenceEqual(truth.AsSpan(s, 3)), $"pixel ({x},{y})");
            }
    }

    [Fact]
    public void Skipped_patches_keep_their_raster_place_and_carry_no_pixels()
    {
        using var dir = new TempDir("skip");
        var (path, _) = NoiseSlide(dir, 600, 400, 0.5);
        using var slide = SlideSource.Open(path);
        var plan = ResolutionPlanner.Plan(slide, new ResolutionOptions { TargetMpp = 0.5 });
        using var analysis = AnalysisImage.Open(slide, plan);
        var grid = new PatchGrid(600, 400, new PatchGridOptions { Tile = 128, Overlap = 16, MinTissueFraction = 0.5 });
        // Tissue only in the left half: a 4×4-pixel mask at 150 analysis px per mask px.
        var maskPixels = new byte[16];
        for (int j = 0; j < 4; j++) { maskPixels[j * 4] = 255; maskPixels[j * 4 + 1] = 255; }
        var mask = new global::WsiSegment.Tiling.Tissue.TissueMask(maskPixels, 4, 4, 75, 150, 600, 400);
        var selection = PatchSelection.FromTissue(grid, mask);
        Assert.InRange(selection.RunCount, 1, grid.Count - 1);
        using var reader = new BandReader(analysis, grid, selection);
        var all = new BandReader(analysis, grid);

        var expected = all.ReadPatches().ToList();
        int index = 0;
        foreach (var patch in reader.ReadPatches())
            using (patch)
            {
                Assert.Equal(index, patch.Position.Index);
                Assert.Equal(!selection.IsRun(index), patch.Skipped);
                if (patch.Skipped) Assert.True(patch.Rgb.IsEmpty);
                else Assert.True(patch.Rgb.Span.SequenceEqual(expected[index].Rgb.Span));
                Assert.Equal(patch.Position.X < 300, !patch.Skipped);
                index++;
            }
        Assert.Equal(grid.Count, index);
        foreach (var p in expected) p.Dispose();
        all.Dispose();
    }

    [Fact]
    public void Cancellation_stops_before_the_next_read_and_disposed_patches_refuse_access()
    {
        using var dir = new TempDir("cancel");
        var (path, _) = NoiseSlide(dir, 512, 512, 0.5);
        using var slide = SlideSource.Open(path);
        var plan = ResolutionPlanner.Plan(slide, new ResolutionOptions { TargetMpp = 0.5 });
        using var analysis = AnalysisImage.Open(slide, plan);
        var grid = new PatchGrid(512, 512, new PatchGridOptions { Tile = 128, Overlap = 0 });
        using var reader = new BandReader(analysis, grid);
        using var cts = new CancellationTokenSource();
        int seen = 0;
        Assert.Throws<OperationCanceledException>(() =>
        {
            foreach (var patch in reader.ReadPatches(cancellationToken: cts.Token))
            {
                patch.Dispose();
                Assert.Throws<ObjectDisposedException>(() => patch.Rgb);
                if (++seen == 4) cts.Cancel(); // End of band 0.
            }
        });
        Assert.Equal(4, seen);
    }

    [SharedFact]
    public void Undecodable_tiles_throw_a_slide_error_naming_the_file()
    {
        string path = Repo.SharedFile("slides", "unreadable.svs");
        using var slide = SlideSource.Open(path);
        var plan = ResolutionPlanner.Plan(slide, new ResolutionOptions { TargetMpp = 0.5 });
        using var analysis = AnalysisImage.Open(slide, plan);
        var grid = new PatchGrid(plan.Width, plan.Height, new PatchGridOptions { Tile = 64, Overlap = 8 });
        using var reader = new BandReader(analysis, grid);
        var e = Assert.Throws<CorruptSlideException>(() => reader.ReadPatches().ToList());
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains("band 0", e.Message);
    }

    [Fact]
    public void Truncated_tiff_fails_during_band_reading_instead_of_returning_black()
    {
        using var dir = new TempDir("trunc");
        var (full, _) = NoiseSlide(dir, 1024, 1024, 0.5);
        string cut = dir.File("cut.tif");
        var bytes = File.ReadAllBytes(full);
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
        var e = Assert.ThrowsAny<SlideException>(() =>
        {
            using var slide = SlideSource.Open(cut);
            var plan = ResolutionPlanner.Plan(slide, new ResolutionOptions { TargetMpp = 0.5 });
            using var analysis = AnalysisImage.Open(slide, plan);
            using var reader = new BandReader(analysis, new PatchGrid(plan.Width, plan.Height, new PatchGridOptions { Tile = 256, Overlap = 0 }));
            foreach (var p in reader.ReadPatches()) p.Dispose();
        });
        Assert.Contains(cut, e.Message);
    }
}

/// <summary>IProgress that reports synchronously (Progress&lt;T&gt; posts to the thread pool, racing the assertions).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
