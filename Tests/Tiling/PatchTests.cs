using WsiSegment.Tiling.Grid;

namespace WsiSegment.Tests.Tiling;

public class PatchTests
{
    [Fact]
    public void Rented_patch_exposes_exactly_one_tile_and_is_unusable_after_dispose()
    {
        var position = new PatchPosition(3, 1, 0, 0, 224);
        var patch = Patch.Rent(position, 256);
        Assert.False(patch.Skipped);
        Assert.Equal(256 * 256 * 3, patch.Rgb.Length);
        patch.Rgb.Span.Fill(7);
        Assert.Equal(7, patch.Rgb.Span[^1]);
        patch.Dispose();
        patch.Dispose(); // idempotent: the buffer goes back to the pool once
        Assert.Throws<ObjectDisposedException>(() => patch.Rgb);

        using var skipped = Patch.CreateSkipped(position, 256);
        Assert.True(skipped.Skipped);
        Assert.True(skipped.Rgb.IsEmpty);
        Assert.Equal(position, skipped.Position);
    }
}
