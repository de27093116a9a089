using WsiSegment.Core.Defaults;
using WsiSegment.Core.Grid;

namespace WsiSegment.Tiling.Grid;

/// <summary>
/// Patch size and overlap in analysis pixels, and the tissue threshold for running a patch.
/// Call <see cref="Validate"/> (the grid does) once all values are set.
/// </summary>
public sealed record PatchGridOptions
{
    /// <summary>Side of a square patch (analysis pixels).</summary>
    public int Tile { get; init; } = SegmentDefaults.Tile;

    /// <summary>Pixels shared by neighbouring patches (stride = Tile − Overlap).</summary>
    public int Overlap { get; init; } = SegmentDefaults.Overlap;

    /// <summary>A patch runs when at least this fraction of its in-image area is tissue (measured over the whole tile,
    /// overlap included, clipped to the image); see <see cref="SegmentDefaults.MinTissueFraction"/>.</summary>
    public double MinTissueFraction { get; init; } = SegmentDefaults.MinTissueFraction;

    public int Stride => Tile - Overlap;

    /// <summary>Throws <see cref="ArgumentException"/> with the offending value when the options are inconsistent.</summary>
    public PatchGridOptions Validate()
    {
        if (TileLayout.Problem(Tile, Overlap) is { } why)
            throw new ArgumentOutOfRangeException(nameof(Tile), why);
        if (!(MinTissueFraction is >= 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(MinTissueFraction), MinTissueFraction, "minimum tissue fraction must be in [0, 1]");
        return this;
    }
}
