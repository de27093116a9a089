using WsiSegment.Tests.Support;
using WsiSegment.Tiling.Grid;
using WsiSegment.Tiling.Resolution;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Tests.Tiling;

/// <summary>
/// Analysis pixel (x, y) covers level-0 pixel (x·d, y·d): coloured squares painted at known level-0 positions must
/// appear, after the planner's level choice, the Lanczos resample and the band reader, centred at (X + S/2)/d.
/// </summary>
public sealed class SquaresSlide : IDisposable
{
    private readonly TempDir _dir = new("map");

    public SquaresSlide() => Path = AnalysisMappingTests.MakeSlide(_dir);

    public string Path { get; }

    public void Dispose() => _dir.Dispose();
}

public class AnalysisMappingTests(SquaresSlide squares) : IClassFixture<SquaresSlide>
{
    private const int W0 = 3000, H0 = 2200, Side = 96;

    private static readonly (int X, int Y, byte R, byte G, byte B)[] Squares =
    [
        (200, 300, 230, 20, 20),
        (1700, 520, 20, 200, 20),
        (2700, 1900, 20, 20, 230),
        (96, 2000, 230, 200, 20),
    ];

    internal static string MakeSlide(TempDir dir)
    {
        var rgb = new byte[W0 * H0 * 3];
        Array.Fill(rgb, (byte)128);
        foreach (var s in Squares) TilingImages.FillRect(rgb, W0, s.X, s.Y, Side, Side, s.R, s.G, s.B);
        string path = dir.File("squares.tif");
        using var img = TilingImages.FromBytes(rgb, W0, H0);
        TilingImages.SavePyramid(img, path, mpp: 0.25, tile: 256);
        return path;
    }

    [Theory]
    [InlineData(0.25, null, 0, 1.0)]     // level 0 as is
    [InlineData(0.5, null, 1, 1.0)]      // level 1 as is
    [InlineData(0.6, null, 1, 1.2)]      // level 1, Lanczos reduce by 1.2
    [InlineData(1.3, null, 2, 1.3)]      // level 2 (1.0 µm), reduce by 1.3
    [InlineData(1.3, 0, 0, 5.2)]         // forced level 0: box shrink 2 then reduce 2.6
    public void Squares_land_at_level0_position_over_d(double targetMpp, int? level, int expectedLevel, double expectedScale)
    {
        string path = squares.Path;
        using var slide = SlideSource.Open(path);
        Assert.Equal(0.25, slide.MppX!.Value, 6);
        var plan = ResolutionPlanner.Plan(slide, new ResolutionOptions { TargetMpp = targetMpp, Level = level });
        Assert.Equal(expectedLevel, plan.Level);
        Assert.Equal(expectedScale, plan.Scale, 6);
        double d = plan.DownsampleToLevel0;
        Assert.Equal(W0 / d, plan.Width, 0.5 + 1e-9);

        using var analysis = AnalysisImage.Open(slide, plan);
        var grid = new PatchGrid(plan.Width, plan.Height, new PatchGridOptions { Tile = 256, Overlap = 40 });
        using var reader = new BandReader(analysis, grid);
        var canvas = new PatchAssembly(grid);
        foreach (var p in reader.ReadPatches()) using (p) canvas.Add(p);
        Assert.Equal(0, canvas.Mismatches);

        foreach (var s in Squares)
        {
            // Expected centre in analysis pixel-index coordinates: the square spans [X/d, (X+S)/d).
            double cx = (s.X + Side / 2.0) / d - 0.5, cy = (s.Y + Side / 2.0) / d - 0.5;
            var (mx, my) = Centroid(canvas, (int)cx, (int)cy, (int)(Side / d) + 6, s.R, s.G, s.B);
            Assert.True(Math.Abs(mx - cx) < 0.05 && Math.Abs(my - cy) < 0.05,
                $"square at level-0 ({s.X},{s.Y}) found at analysis ({mx:0.00},{my:0.00}), expected ({cx:0.00},{cy:0.00}) with d = {d}");
        }
    }

    /// <summary>Centroid of the colour's excess over the grey background within a window.</summary>
    private static (double X, double Y) Centroid(PatchAssembly canvas, int cx, int cy, int half, byte r, byte g, byte b)
    {
        double sw = 0, sx = 0, sy = 0;
        for (int y = Math.Max(0, cy - half); y <= cy + half; y++)
            for (int x = Math.Max(0, cx - half); x <= cx + half; x++)
            {
                var p = canvas.At(x, y);
                // Projection of (pixel − grey) on (colour − grey): 1 inside the square, 0 on the background.
                double dr = r - 128.0, dg = g - 128.0, db = b - 128.0;
                double w = ((p.R - 128.0) * dr + (p.G - 128.0) * dg + (p.B - 128.0) * db) / (dr * dr + dg * dg + db * db);
                sw += w; sx += w * x; sy += w * y;
            }
        return (sx / sw, sy / sw);
    }
}
