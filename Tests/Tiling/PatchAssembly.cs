using WsiSegment.Tiling.Grid;

namespace WsiSegment.Tests.Tiling;

/// <summary>Test helper: puts streamed patches back into one padded canvas (what the stitcher will undo).</summary>
internal sealed class PatchAssembly
{
    public PatchAssembly(PatchGrid grid)
    {
        Grid = grid;
        Canvas = new byte[(long)grid.PaddedWidth * grid.PaddedHeight * 3];
        Written = new bool[grid.Count];
        _filled = new bool[(long)grid.PaddedWidth * grid.PaddedHeight];
    }

    public PatchGrid Grid { get; }

    /// <summary>PaddedWidth × PaddedHeight RGB; overlapping patches must agree, which <see cref="Add"/> checks.</summary>
    public byte[] Canvas { get; }
    public bool[] Written { get; }
    public int Mismatches { get; private set; }
    private readonly bool[] _filled;

    public void Add(Patch patch)
    {
        var p = patch.Position;
        Written[p.Index] = true;
        if (patch.Skipped) return;
        var rgb = patch.Rgb.Span;
        int tile = Grid.Tile, pw = Grid.PaddedWidth;
        for (int y = 0; y < tile; y++)
            for (int x = 0; x < tile; x++)
            {
                long dst = ((long)(p.Y + y) * pw + p.X + x) * 3;
                int src = (y * tile + x) * 3;
                long at = dst / 3;
                if (_filled[at])
                {
                    if (Canvas[dst] != rgb[src] || Canvas[dst + 1] != rgb[src + 1] || Canvas[dst + 2] != rgb[src + 2]) Mismatches++;
                    continue;
                }
                _filled[at] = true;
                Canvas[dst] = rgb[src]; Canvas[dst + 1] = rgb[src + 1]; Canvas[dst + 2] = rgb[src + 2];
            }
    }

    public (byte R, byte G, byte B) At(int x, int y)
    {
        long i = ((long)y * Grid.PaddedWidth + x) * 3;
        return (Canvas[i], Canvas[i + 1], Canvas[i + 2]);
    }
}
