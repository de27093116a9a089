using NetVips;
using WsiSegment.Tiling.Slides;
using WsiSegment.Stitching.Blending;
using WsiSegment.Stitching.Output;
using WsiSegment.Stitching.Reporting;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Stitching;

public class ReportingTests
{
    [Fact]
    public void Areas_are_pixels_times_mpp_squared_in_mm2()
    {
        var counts = new ClassPixelCounts([1_000_000, 250_000, 0, 750_000, 0, 0, 0, 0]);
        var stats = ClassStatistics.From(counts, TestLabels.Classes, mpp: 2.0);
        Assert.Equal(8, stats.Classes.Count);
        Assert.Equal(1.0, stats.Classes[1].AreaMm2!.Value, 9);   // 250,000 px × 4 µm² = 1 mm²
        Assert.Equal(3.0, stats.Classes[3].AreaMm2!.Value, 9);
        Assert.Equal(4.0, stats.TissueAreaMm2!.Value, 9);      // background is not tissue
        Assert.Equal(0.25, stats.Classes[1].FractionOfTissue, 9);
        Assert.Equal(0.125, stats.Classes[1].FractionOfImage, 9);
        Assert.Equal("Necrosis", stats.Classes[3].Name);
        Assert.Equal(2_000_000, stats.TotalPixels);
        Assert.Throws<ArgumentOutOfRangeException>(() => ClassStatistics.From(counts, TestLabels.Classes, 0));
        // Analysed at a level without a known MPP: pixels and fractions, no areas.
        var unscaled = ClassStatistics.From(counts, TestLabels.Classes, mpp: null);
        Assert.Null(unscaled.Classes[1].AreaMm2);
        Assert.Null(unscaled.TissueAreaMm2);
        Assert.Equal(250_000, unscaled.Classes[1].Pixels);
    }

    [Fact]
    public void Thumbnail_shows_the_slide_and_the_coloured_mask_side_by_side()
    {
        using var dir = new TempDir("thumb");
        using var spool = TestLabels.Spool(dir.File("l.u8"), 1500, 1100);
        var reduced = ReducedLabels.FromSpool(spool, maxSide: 600);
        // A grey "slide" thumbnail with alpha, at another size than the labels.
        using var black = Image.Black(300, 220);
        using var grey = (black + 128).Cast(Enums.BandFormat.Uchar);
        using var greyAlpha = grey.Bandjoin(255);
        using var slide = RgbImage.ToRgb8(greyAlpha);

        ThumbnailComposer.Write(dir.File("s.thumb.png"), slide, reduced, TestLabels.Classes);

        var header = Tool.Run(Tool.Require("vipsheader", "libvips-tools"), [dir.File("s.thumb.png")]).Stdout;
        Assert.Contains("1024x", header);
        using var png = Image.NewFromFile(dir.File("s.thumb.png"));
        Assert.Equal(3, png.Bands);
        Assert.Equal(Math.Round(508 * 1100 / 1500.0), png.Height);
        var left = png.Getpoint(100, 100);
        Assert.Equal([128.0, 128.0, 128.0], left);
        // Right panel at the centre of the first 150-px block (label 0 → background colour white), then block (1, 0) → class 1.
        double scale = 508 / 1500.0;
        var c1 = TestLabels.Classes[TestLabels.At(225, 75)].Color;
        Assert.Equal(new double[] { c1.R, c1.G, c1.B }, png.Getpoint(516 + (int)(225 * scale), (int)(75 * scale)));
        Assert.Equal([255.0, 255.0, 255.0], png.Getpoint(516 + (int)(75 * scale), (int)(75 * scale)));
    }
}
