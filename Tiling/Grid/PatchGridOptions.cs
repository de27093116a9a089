namespace WsiSegment.Tiling.Grid;

/// <summary>
/// Patch size and overlap in analysis pixels, and the tissue threshold for running a patch.
/// Call <see cref="Validate"/> (the grid does) once all values are set.
/// </summary>
public sealed record PatchGridOptions
{
    /// <summary>ESPNet down-samples three times by 2: a tile must be a multiple of this for its up-sampling to line up.</summary>
    public const int TileMultiple = 8;

    /// <summary>Side of a square patch (analysis pixels). Default 1024: ((1024−128)/1024)² = 77% of computed pixels are unique.</summary>
    public int Tile { get; init; } = 1024;

    /// <summary>Pixels shared by neighbouring patches (stride = Tile − Overlap). Default 128.</summary>
    public int Overlap { get; init; } = 128;

    /// <summary>
    /// A patch runs when at least this fraction of its in-image area is tissue (measured over the whole tile,
    /// overlap included, clipped to the image). Default 0.01: skipped patches are labelled background, so the
    /// threshold is kept low to lose no tissue at patch corners; running a nearly empty patch costs little.
    /// </summary>
    public double MinTissueFraction { get; init; } = 0.01;

    public int Stride => Tile - Overlap;

    /// <summary>Throws <see cref="ArgumentException"/> with the offending value when the options are inconsistent.</summary>
    public PatchGridOptions Validate()
    {
        if (Tile < TileMultiple || Tile % TileMultiple != 0)
            throw new ArgumentOutOfRangeException(nameof(Tile), Tile, $"tile must be a positive multiple of {TileMultiple} pixels");
        if (Overlap < 0)
            throw new ArgumentOutOfRangeException(nameof(Overlap), Overlap, "overlap must be 0 or more pixels");
        if (Overlap >= Tile)
            throw new ArgumentOutOfRangeException(nameof(Overlap), Overlap, $"overlap must be smaller than the tile ({Tile})");
        if (!(MinTissueFraction is >= 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(MinTissueFraction), MinTissueFraction, "minimum tissue fraction must be in [0, 1]");
        return this;
    }
}
