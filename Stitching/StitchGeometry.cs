namespace WsiSegment.Stitching;

/// <summary>
/// The tile grid over the analysis image, the same formula Tiling uses: stride S = T − O,
/// Cols = W ≤ T ? 1 : 1 + ceil((W − T) / S) (rows likewise); tile (r, c) has its top-left corner at (c·S, r·S)
/// and may extend past the right/bottom border (those pixels are ignored).
/// </summary>
public sealed record StitchGeometry
{
    public StitchGeometry(int width, int height, int tile, int overlap, int classes)
    {
        if (width < 1 || height < 1) throw new ArgumentOutOfRangeException(nameof(width), $"image size {width}×{height} must be positive");
        if (tile < 1) throw new ArgumentOutOfRangeException(nameof(tile), $"tile {tile} must be positive");
        // The stitcher keeps one carry strip per direction: a pixel may be covered by at most two tiles per axis.
        if (overlap < 0 || 2 * overlap > tile)
            throw new ArgumentOutOfRangeException(nameof(overlap), $"overlap {overlap} must be between 0 and half the tile ({tile / 2})");
        if (classes < 1 || classes > 256) throw new ArgumentOutOfRangeException(nameof(classes), $"{classes} classes do not fit uint8 labels (1..256)");
        Width = width;
        Height = height;
        Tile = tile;
        Overlap = overlap;
        Classes = classes;
    }

    public int Width { get; }
    public int Height { get; }
    public int Tile { get; }
    public int Overlap { get; }
    public int Classes { get; }

    public int Stride => Tile - Overlap;
    public int Cols => Count(Width, Tile, Stride);
    public int Rows => Count(Height, Tile, Stride);
    public int TileCount => Cols * Rows;

    /// <summary>Number of tiles along one axis of length <paramref name="length"/>.</summary>
    public static int Count(int length, int tile, int stride) =>
        length <= tile ? 1 : 1 + (int)(((long)length - tile + stride - 1) / stride);

    /// <summary>Top-left corner of tile (row, col) in analysis pixels.</summary>
    public (int X, int Y) Origin(int row, int col) => (col * Stride, row * Stride);
}
