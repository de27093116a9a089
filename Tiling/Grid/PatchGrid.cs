namespace WsiSegment.Tiling.Grid;

/// <summary>
/// Overlapping square patches covering a W×H analysis image, in raster order (row by row, left to right).
/// <para>
/// The layout (Stitching mirrors it exactly):
/// <code>
/// stride = Tile − Overlap
/// Cols   = W &lt;= Tile ? 1 : 1 + ceil((W − Tile) / stride)      (same for Rows with H)
/// patch (r, c): index = r·Cols + c, X = c·stride, Y = r·stride   (top-left, analysis pixels)
/// it covers [X, X + Tile) × [Y, Y + Tile); the last column/row may reach past W/H: those pixels are
/// mirror padding (see BandReader) and are cropped away when stitching.
/// PaddedWidth = (Cols − 1)·stride + Tile ≥ W   (same for PaddedHeight)
/// </code>
/// Every image pixel is covered: the last column starts at (Cols−1)·stride ≥ W − Tile.
/// </para>
/// </summary>
public sealed class PatchGrid
{
    public PatchGrid(int width, int height, PatchGridOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        Width = width;
        Height = height;
        Options = options;
        Cols = AxisCount(width, options.Tile, options.Overlap);
        Rows = AxisCount(height, options.Tile, options.Overlap);
    }

    public int Width { get; }
    public int Height { get; }
    public PatchGridOptions Options { get; }
    public int Tile => Options.Tile;
    public int Overlap => Options.Overlap;
    public int Stride => Options.Stride;
    public int Cols { get; }
    public int Rows { get; }
    public int Count => Rows * Cols;

    /// <summary>Width of the padded image the patches tile exactly: (Cols − 1)·stride + Tile.</summary>
    public int PaddedWidth => (Cols - 1) * Stride + Tile;

    /// <summary>Height of the padded image the patches tile exactly: (Rows − 1)·stride + Tile.</summary>
    public int PaddedHeight => (Rows - 1) * Stride + Tile;

    /// <summary>Patches along one axis of <paramref name="length"/> pixels: length ≤ tile ? 1 : 1 + ceil((length − tile) / stride).</summary>
    public static int AxisCount(int length, int tile, int overlap)
    {
        int stride = tile - overlap;
        if (length <= tile) return 1;
        return 1 + (int)(((long)length - tile + stride - 1) / stride);
    }

    public PatchPosition At(int row, int col)
    {
        if ((uint)row >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(row), row, $"grid has {Rows} rows");
        if ((uint)col >= (uint)Cols) throw new ArgumentOutOfRangeException(nameof(col), col, $"grid has {Cols} columns");
        return new PatchPosition(row * Cols + col, row, col, col * Stride, row * Stride);
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
