using WsiSegment.Tiling.Grid;

namespace WsiSegment.Tests.Tiling;

public class PatchGridTests
{
    [Theory]
    [InlineData(1024, 1024, 128, 1)]
    [InlineData(1025, 1024, 128, 2)]
    [InlineData(1920, 1024, 128, 2)]   // 1024 + 896 = 1920 exactly
    [InlineData(1921, 1024, 128, 3)]
    [InlineData(16, 1024, 128, 1)]     // image smaller than a tile
    [InlineData(10_000, 1024, 128, 12)]  // 1 + ceil(8976 / 896 = 10.02)
    [InlineData(700, 256, 32, 3)]
    [InlineData(100, 8, 0, 13)]
    public void Axis_count_follows_the_documented_formula(int length, int tile, int overlap, int expected)
    {
        Assert.Equal(expected, PatchGrid.AxisCount(length, tile, overlap));
    }

    [Theory]
    [InlineData(700, 500, 256, 32)]
    [InlineData(1, 1, 64, 8)]
    [InlineData(16, 16, 1024, 128)]
    [InlineData(2049, 1023, 512, 64)]
    [InlineData(512, 512, 512, 0)]
    public void Grid_covers_every_pixel_in_raster_order_and_stays_within_its_padding(int width, int height, int tile, int overlap)
    {
        var grid = new PatchGrid(width, height, new PatchGridOptions { Tile = tile, Overlap = overlap });
        var covered = new int[width * height];
        int expectedIndex = 0;
        foreach (var p in grid.Positions())
        {
            Assert.Equal(expectedIndex++, p.Index);
            Assert.Equal(p.Row * grid.Cols + p.Col, p.Index);
            Assert.Equal(p.Col * (tile - overlap), p.X);
            Assert.Equal(p.Row * (tile - overlap), p.Y);
            Assert.True(p.X < width && p.Y < height, "every patch starts inside the image");
            Assert.True(p.X + tile <= grid.PaddedWidth && p.Y + tile <= grid.PaddedHeight);
            Assert.Equal(p, grid.At(p.Index));
            for (int y = p.Y; y < Math.Min(height, p.Y + tile); y++)
                for (int x = p.X; x < Math.Min(width, p.X + tile); x++)
                    covered[y * width + x]++;
        }
        Assert.Equal(grid.Count, expectedIndex);
        Assert.DoesNotContain(0, covered);
        Assert.True(grid.PaddedWidth >= width && grid.PaddedHeight >= height);
        // Minimal: one column fewer would leave pixels uncovered.
        if (grid.Cols > 1) Assert.True((grid.Cols - 2) * grid.Stride + tile < width);
        if (grid.Rows > 1) Assert.True((grid.Rows - 2) * grid.Stride + tile < height);
    }

    [Fact]
    public void Non_divisible_size_places_the_last_patch_past_the_border()
    {
        var grid = new PatchGrid(2500, 1100, new PatchGridOptions()); // 1024 / 128 defaults, stride 896
        Assert.Equal(3, grid.Cols);
        Assert.Equal(2, grid.Rows);
        Assert.Equal(new PatchPosition(5, 1, 2, 1792, 896), grid.At(1, 2));
        Assert.Equal(2816, grid.PaddedWidth);
        Assert.Equal(1920, grid.PaddedHeight);
    }

    [Theory]
    [InlineData(1024, -1)]
    [InlineData(1024, 1024)]
    [InlineData(1020, 100)]  // not a multiple of 8
    [InlineData(0, 0)]
    public void Invalid_options_are_rejected(int tile, int overlap)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => new PatchGrid(100, 100, new PatchGridOptions { Tile = tile, Overlap = overlap }));
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
    }
}
