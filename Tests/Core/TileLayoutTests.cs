using WsiSegment.Core.Grid;
using WsiSegment.Processor.Segmentation;
using WsiSegment.Stitching.Blending;
using WsiSegment.Tests.Stitching;
using WsiSegment.Tiling.Grid;

namespace WsiSegment.Tests.Core;

public class TileLayoutTests
{
    [Theory]
    [InlineData(1024, 128, true)]
    [InlineData(1024, 512, true)]   // half the tile: every pixel under at most two tiles per axis
    [InlineData(1024, 513, false)]
    [InlineData(64, 0, true)]
    [InlineData(56, 0, false)]      // below the smallest tile
    [InlineData(1020, 100, false)]  // not a multiple of 8
    [InlineData(256, -1, false)]
    public void One_rule_decides_for_the_command_line_the_reader_and_the_stitcher(int tile, int overlap, bool fits)
    {
        Assert.Equal(fits, TileLayout.Problem(tile, overlap) is null);
        var options = new SegmentOptions { Tile = tile, Overlap = overlap };
        var grid = new PatchGridOptions { Tile = tile, Overlap = overlap };
        if (fits)
        {
            options.Validate();
            var patches = new PatchGrid(3000, 2000, grid);
            using var accumulator = new BandAccumulator(patches.Layout, 4, new ImageSink(3000, 2000));
            Assert.Same(patches.Layout, accumulator.Layout);
        }
        else
        {
            string why = TileLayout.Problem(tile, overlap)!;
            Assert.Contains(why, Assert.Throws<ArgumentException>(() => options.Validate()).Message);
            Assert.Contains(why, Assert.ThrowsAny<ArgumentException>(() => new PatchGrid(3000, 2000, grid)).Message);
            Assert.Contains(why, Assert.Throws<ArgumentOutOfRangeException>(() => new TileLayout(3000, 2000, tile, overlap)).Message);
        }
    }

    [Fact]
    public void Own_blocks_tile_the_image_exactly_once()
    {
        var layout = new TileLayout(1000, 700, 256, 64);
        var hits = new int[1000 * 700];
        for (int r = 0; r < layout.Rows; r++)
            for (int c = 0; c < layout.Cols; c++)
            {
                var (x, y, w, h) = layout.OwnBlock(r, c);
                Assert.Equal(layout.Origin(r, c), (x, y));
                for (int v = y; v < y + h; v++)
                    for (int u = x; u < x + w; u++) hits[v * 1000 + u]++;
            }
        Assert.All(hits, n => Assert.Equal(1, n));
    }
}
