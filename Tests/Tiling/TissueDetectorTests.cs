using WsiSegment.Tests.Support;
using WsiSegment.Tiling.Grid;
using WsiSegment.Tiling.Resolution;
using WsiSegment.Tiling.Slides;
using WsiSegment.Tiling.Tissue;

namespace WsiSegment.Tests.Tiling;

public class TissueDetectorTests
{
    private const double Mpp = 0.5;

    /// <summary>
    /// 4000×3000 at 0.5 µm (2 × 1.5 mm): glass with faint noise, a pink "tissue" disk (radius 600 px) holding a
    /// small glass hole, and a tiny dark speck far from it (smaller than the minimum object area).
    /// </summary>
    private static string PinkBlobSlide(TempDir dir, out double blobAreaPx)
    {
        const int w = 4000, h = 3000, cx = 1500, cy = 1400, r = 600;
        var rgb = new byte[w * h * 3];
        var random = new Random(7);
        for (int i = 0; i < rgb.Length; i++) rgb[i] = (byte)(242 + random.Next(10));
        long inside = 0;
        for (int y = cy - r; y <= cy + r; y++)
            for (int x = cx - r; x <= cx + r; x++)
            {
                int dx = x - cx, dy = y - cy;
                if (dx * dx + dy * dy > r * r) continue;
                inside++;
                int k = (y * w + x) * 3;
                rgb[k] = (byte)(215 + random.Next(20)); rgb[k + 1] = (byte)(120 + random.Next(40)); rgb[k + 2] = (byte)(170 + random.Next(30));
            }
        blobAreaPx = inside;
        TilingImages.FillRect(rgb, w, cx - 30, cy - 30, 60, 60, 248, 248, 248);   // hole: 30×30 µm = 900 µm²
        TilingImages.FillRect(rgb, w, 3500, 500, 24, 24, 60, 40, 90);             // speck: 12×12 µm = 144 µm²
        string path = dir.File("blob.tif");
        using var img = TilingImages.FromBytes(rgb, w, h);
        TilingImages.SavePyramid(img, path, Mpp, tile: 256, jpeg: true);
        return path;
    }

    [Fact]
    public void Finds_a_pink_blob_on_glass_fills_its_hole_and_drops_a_speck()
    {
        using var dir = new TempDir("tissue");
        string path = PinkBlobSlide(dir, out double blobPx);
        using var slide = SlideSource.Open(path);
        var plan = ResolutionPlanner.Plan(slide, new ResolutionOptions { TargetMpp = 1.0 }); // analysis: 2000×1500
        var mask = TissueDetector.Detect(slide, plan);

        Assert.Equal(TissueBackground.Bright, mask.Background);
        Assert.InRange(mask.Mpp, 7.5, 8.5);
        Assert.False(mask.MppIsNominal);
        double blobUm2 = blobPx * Mpp * Mpp;
        Assert.InRange(mask.TissueAreaUm2, 0.9 * blobUm2, 1.1 * blobUm2);
        // Analysis coordinates (1 µm/px): blob centre at (750, 700), radius 300; the hole at the centre is filled.
        Assert.Equal(1.0, mask.Fraction(700, 650, 100, 100), 3);
        Assert.Equal(0.0, mask.Fraction(1700, 200, 100, 100), 3); // the speck's neighbourhood
        Assert.Equal(0.0, mask.Fraction(0, 1300, 200, 200), 3);
        Assert.InRange(mask.Fraction(750, 400, 600, 600), 0.1, 0.9); // straddles the edge
        Assert.Equal(0.0, mask.Fraction(5000, 5000, 100, 100));     // outside the image

        var grid = new PatchGrid(plan.Width, plan.Height, new PatchGridOptions { Tile = 256, Overlap = 32 });
        var selection = PatchSelection.FromTissue(grid, mask);
        Assert.InRange(selection.RunCount, 4, grid.Count - 4);
        foreach (var p in grid.Positions())
        {
            double nearestX = Math.Clamp(750, p.X, p.X + 256), nearestY = Math.Clamp(700, p.Y, p.Y + 256);
            double gap = Math.Sqrt(Math.Pow(nearestX - 750, 2) + Math.Pow(nearestY - 700, 2));
            if (gap > 320) Assert.False(selection.IsRun(p.Index), $"patch {p} is far from the blob");
            if (gap < 250) Assert.True(selection.IsRun(p.Index), $"patch {p} overlaps the blob");
        }

        string png = dir.File("mask.png");
        mask.SavePng(png);
        var header = Tool.Run(Tool.Require("vipsheader", "libvips-tools"), [png]);
        Assert.Contains($"{mask.Width}x{mask.Height} uchar, 1 band", header.Stdout);
    }

    [Fact]
    public void A_slide_too_large_for_the_working_mpp_is_analysed_coarser_within_the_side_limit()
    {
        using var dir = new TempDir("tissue");
        string path = PinkBlobSlide(dir, out double blobPx);
        using var slide = SlideSource.Open(path);
        var plan = ResolutionPlanner.Plan(slide, new ResolutionOptions { TargetMpp = 1.0 });
        // At 8 µm/px the mask would be 250×188; a 100-pixel limit makes it coarser (20 µm/px), still finding the blob.
        var mask = TissueDetector.Detect(slide, plan, new TissueOptions { MaxWorkingSide = 100 });
        Assert.True(Math.Max(mask.Width, mask.Height) <= 100, $"{mask.Width}x{mask.Height}");
        Assert.InRange(mask.Mpp, 19, 21);
        double blobUm2 = blobPx * Mpp * Mpp;
        Assert.InRange(mask.TissueAreaUm2, 0.85 * blobUm2, 1.15 * blobUm2);
        Assert.Equal(1.0, mask.Fraction(700, 650, 100, 100), 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TissueOptions { MaxWorkingSide = 10 }.Validate());
    }

    [Fact]
    public void Blank_slide_has_no_tissue_and_every_patch_is_skipped()
    {
        using var dir = new TempDir("blank");
        string path = dir.File("white.tif");
        using (var img = TilingImages.Solid(2000, 1600, 250, 250, 248))
            TilingImages.SavePyramid(img, path, Mpp);
        using var slide = SlideSource.Open(path);
        var plan = ResolutionPlanner.Plan(slide, new ResolutionOptions { TargetMpp = Mpp });
        var mask = TissueDetector.Detect(slide, plan);
        Assert.Equal(0, mask.TissuePixels);
        var selection = PatchSelection.FromTissue(new PatchGrid(plan.Width, plan.Height, new PatchGridOptions { Tile = 512, Overlap = 64 }), mask);
        Assert.Equal(0, selection.RunCount);
    }

    [Fact]
    public void Tissue_covering_the_whole_slide_is_all_tissue()
    {
        // An Otsu threshold alone would split all-tissue slides in two; the clamped thresholds keep it whole.
        using var dir = new TempDir("full");
        string path = dir.File("full.tif");
        var rgb = TilingImages.NoiseBytes(1200, 1000, 3);
        for (int i = 0; i < rgb.Length; i += 3) { rgb[i] = (byte)(150 + rgb[i] % 90); rgb[i + 1] = (byte)(40 + rgb[i + 1] % 100); rgb[i + 2] = (byte)(120 + rgb[i + 2] % 90); }
        using (var img = TilingImages.FromBytes(rgb, 1200, 1000))
            TilingImages.SavePyramid(img, path, Mpp);
        using var slide = SlideSource.Open(path);
        var plan = ResolutionPlanner.Plan(slide, new ResolutionOptions { TargetMpp = Mpp });
        var mask = TissueDetector.Detect(slide, plan);
        Assert.Equal(mask.Width * mask.Height, mask.TissuePixels);
    }

    [SharedFact]
    public void Brightfield_svs_has_a_plausible_tissue_fraction()
    {
        using var slide = SlideSource.Open(Repo.SharedFile("slides", "CMU-1-Small-Region.svs"));
        var plan = ResolutionPlanner.Plan(slide, new ResolutionOptions { TargetMpp = 0.5 });
        var mask = TissueDetector.Detect(slide, plan);
        Assert.Equal(TissueBackground.Bright, mask.Background);
        double fraction = (double)mask.TissuePixels / (mask.Width * mask.Height);
        Assert.InRange(fraction, 0.1, 0.6); // a strip of skin on glass
        Assert.Equal(plan.Width, mask.Width * mask.ScaleToAnalysis, plan.Width * 0.02);
    }

    [SharedFact]
    public void Fluorescence_ndpi_is_detected_as_dark_background()
    {
        using var slide = SlideSource.Open(Repo.SharedFile("slides", "test3-DAPI-2-_387_.ndpi"));
        var plan = ResolutionPlanner.Plan(slide, new ResolutionOptions { TargetMpp = 0.5 });
        var auto = TissueDetector.Detect(slide, plan);
        Assert.Equal(TissueBackground.Dark, auto.Background);
        double fraction = (double)auto.TissuePixels / (auto.Width * auto.Height);
        Assert.InRange(fraction, 0.3, 1.0); // DAPI nuclei nearly everywhere on this crop

        // Forced brightfield rules on a black background: "dark enough" everywhere, so everything is tissue.
        var bright = TissueDetector.Detect(slide, plan, new TissueOptions { Background = TissueBackground.Bright });
        Assert.Equal(TissueBackground.Bright, bright.Background);
        Assert.True(bright.TissuePixels >= auto.TissuePixels);
    }

    [SharedFact]
    public void Sixteen_pixel_slide_does_not_crash()
    {
        using var slide = SlideSource.Open(Repo.SharedFile("slides", "small.svs"));
        var plan = ResolutionPlanner.Plan(slide, new ResolutionOptions { TargetMpp = 0.5 });
        var mask = TissueDetector.Detect(slide, plan);
        Assert.Equal(16, mask.Width);
        Assert.Equal(16, mask.Height);
        Assert.InRange(mask.Fraction(0, 0, 1024, 1024), 0, 1);
    }

    [Fact]
    public void Otsu_splits_a_bimodal_histogram_between_its_modes()
    {
        var hist = new long[256];
        hist[40] = 1000; hist[200] = 3000;
        int t = Otsu.Threshold(hist);
        Assert.InRange(t, 40, 199);
        hist = new long[256];
        hist[17] = 10;
        Assert.Equal(17, Otsu.Threshold(hist));
    }

    [Fact]
    public void Morphology_closes_gaps_opens_specks_and_fills_only_small_enclosed_holes()
    {
        const int w = 40, h = 40;
        var m = new byte[w * h];
        for (int y = 10; y < 30; y++) for (int x = 10; x < 30; x++) m[y * w + x] = 255;
        m[20 * w + 20] = 0;                  // one-pixel hole: closed
        m[2 * w + 2] = 255;                  // speck: opened away
        var closed = BinaryMorphology.Close(m, w, h, 2);
        Assert.Equal(255, closed[20 * w + 20]);
        var opened = BinaryMorphology.Open(closed, w, h, 2);
        Assert.Equal(0, opened[2 * w + 2]);
        Assert.Equal(255, opened[10 * w + 15]); // the square's edge survives

        var holes = new byte[w * h];
        for (int y = 5; y < 35; y++) for (int x = 5; x < 35; x++) holes[y * w + x] = 255;
        for (int y = 10; y < 13; y++) for (int x = 10; x < 13; x++) holes[y * w + x] = 0;   // 9-pixel hole
        for (int y = 20; y < 30; y++) for (int x = 20; x < 30; x++) holes[y * w + x] = 0;   // 100-pixel hole
        BinaryMorphology.FillSmallHoles(holes, w, h, 50);
        Assert.Equal(255, holes[11 * w + 11]);
        Assert.Equal(0, holes[25 * w + 25]);
        Assert.Equal(0, holes[0]); // the outside is not a hole
        BinaryMorphology.RemoveSmallObjects(holes, w, h, 10_000);
        Assert.DoesNotContain((byte)255, holes);
    }
}
