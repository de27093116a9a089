using WsiSegment.Core.Grid;

namespace WsiSegment.Tiling.Grid;

/// <summary>
/// The patches of a <see cref="TileLayout"/> over a W×H analysis image, in raster order (row by row, left to right),
/// with the tissue threshold for running them. The last column/row may reach past W/H: those pixels are mirror padding
/// (see BandReader), cropped away when stitching.
/// </summary>
public sealed class PatchGrid
{
    public PatchGrid(int width, int height, PatchGridOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        Layout = new TileLayout(width, height, options.Tile, options.Overlap);
    }

    /// <summary>The layout the stitcher blends these patches back by.</summary>
    public TileLayout Layout { get; }
    public PatchGridOptions Options { get; }
    public int Width => Layout.Width;
    public int Height => Layout.Height;
    public int Tile => Layout.Tile;
    public int Overlap => Layout.Overlap;
    public int Stride => Layout.Stride;
    public int Cols => Layout.Cols;
    public int Rows => Layout.Rows;
    public int Count => Layout.Count;
    public int PaddedWidth => Layout.PaddedWidth;
    public int PaddedHeight => Layout.PaddedHeight;

    /// <summary>Patches along one axis (see <see cref="TileLayout.AxisCount"/>).</summary>
    public static int AxisCount(int length, int tile, int overlap) => TileLayout.AxisCount(length, tile, overlap);

    public PatchPosition At(int row, int col)
    {
        if ((uint)row >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(row), row, $"grid has {Rows} rows");
        if ((uint)col >= (uint)Cols) throw new ArgumentOutOfRangeException(nameof(col), col, $"grid has {Cols} columns");
        var (x, y) = Layout.Origin(row, col);
        return new PatchPosition(row * Cols + col, row, col, x, y);
    }

    public PatchPosition At(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"grid has {Count} patches");
        return At(index / Cols, index % Cols);
    }

    /// <summary>All positions in raster order.</summary>
    public IEnumerable<PatchPosition> Positions()
    {
        for (int r = 0; r < Rows; r++)
            for (int c = 0; c < Cols; c++)
                yield return At(r, c);
    }
}
