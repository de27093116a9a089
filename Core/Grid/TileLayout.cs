namespace WsiSegment.Core.Grid;

/// <summary>
/// Overlapping square tiles covering a W×H analysis image, in raster order: the one layout the band reader cuts
/// patches by and the stitcher blends them back by.
/// <code>
/// stride = Tile − Overlap
/// Cols   = W ≤ Tile ? 1 : 1 + ceil((W − Tile) / stride)      (Rows likewise with H)
/// tile (r, c): index = r·Cols + c, top-left (c·stride, r·stride) in analysis pixels
/// it covers [X, X + Tile) × [Y, Y + Tile); the last column/row may reach past W/H (mirror padding when reading,
/// cropped away when stitching). PaddedWidth = (Cols − 1)·stride + Tile ≥ W (PaddedHeight likewise).
/// </code>
/// Every pixel is covered (the last column starts at (Cols − 1)·stride ≥ W − Tile), and by at most two tiles per
/// axis (<see cref="Problem"/>), which is what lets the stitcher keep one carry strip per direction.
/// </summary>
public sealed record TileLayout
{
    /// <summary>ESPNet down-samples three times by 2: a tile must be a multiple of this for its up-sampling to line up.</summary>
    public const int TileMultiple = 8;

    /// <summary>Smallest tile: below it the network's receptive field is mostly padding.</summary>
    public const int MinTile = 64;

    public TileLayout(int width, int height, int tile, int overlap)
    {
        if (width < 1 || height < 1)
            throw new ArgumentOutOfRangeException(width < 1 ? nameof(width) : nameof(height), $"image size {width}×{height} must be positive");
        if (TileProblem(tile) is { } badTile) throw new ArgumentOutOfRangeException(nameof(tile), tile, badTile);
        if (OverlapProblem(tile, overlap) is { } badOverlap) throw new ArgumentOutOfRangeException(nameof(overlap), overlap, badOverlap);
        Width = width;
        Height = height;
        Tile = tile;
        Overlap = overlap;
        Cols = AxisCount(width, tile, overlap);
        Rows = AxisCount(height, tile, overlap);
    }

    public int Width { get; }
    public int Height { get; }
    public int Tile { get; }
    public int Overlap { get; }
    public int Stride => Tile - Overlap;
    public int Cols { get; }
    public int Rows { get; }
    public int Count => Rows * Cols;

    /// <summary>Width of the padded image the tiles cover exactly: (Cols − 1)·stride + Tile.</summary>
    public int PaddedWidth => (Cols - 1) * Stride + Tile;

    /// <summary>Height of the padded image the tiles cover exactly: (Rows − 1)·stride + Tile.</summary>
    public int PaddedHeight => (Rows - 1) * Stride + Tile;

    /// <summary>Top-left corner of tile (row, col) in analysis pixels.</summary>
    public (int X, int Y) Origin(int row, int col) => (col * Stride, row * Stride);

    /// <summary>
    /// The part of tile (row, col) that no later tile in raster order covers: [X, X + S) × [Y, Y + S), or up to the
    /// image's right/bottom edge in the last column/row.
    /// </summary>
    public (int X, int Y, int Width, int Height) OwnBlock(int row, int col)
    {
        var (x, y) = Origin(row, col);
        int w = col == Cols - 1 ? Math.Min(Tile, Width - x) : Stride;
        int h = row == Rows - 1 ? Math.Min(Tile, Height - y) : Stride;
        return (x, y, w, h);
    }

    /// <summary>Tiles along one axis of <paramref name="length"/> pixels: length ≤ tile ? 1 : 1 + ceil((length − tile) / stride).</summary>
    public static int AxisCount(int length, int tile, int overlap)
    {
        int stride = tile - overlap;
        if (length <= tile) return 1;
        return 1 + (int)(((long)length - tile + stride - 1) / stride);
    }

    /// <summary>
    /// The one rule for tile and overlap, or null when they fit: the tile a multiple of <see cref="TileMultiple"/> and
    /// at least <see cref="MinTile"/>; the overlap between 0 and half the tile (a pixel under at most two tiles per axis).
    /// </summary>
    public static string? Problem(int tile, int overlap) => TileProblem(tile) ?? OverlapProblem(tile, overlap);

    private static string? TileProblem(int tile) =>
        tile < MinTile || tile % TileMultiple != 0 ? $"tile {tile} must be a multiple of {TileMultiple} and at least {MinTile}" : null;

    private static string? OverlapProblem(int tile, int overlap) =>
        overlap < 0 || 2L * overlap > tile ? $"overlap {overlap} must be between 0 and half the tile ({tile / 2})" : null;
}
