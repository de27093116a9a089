using WsiSegment.Core.Blending;
using WsiSegment.Core.Defaults;
using WsiSegment.Core.Grid;

namespace WsiSegment.Processor.Segmentation;

/// <summary>
/// Everything `segment` (and the watch service) can be told, validated once at the boundary.
/// Sizes are analysis-space pixels (at the analysis MPP), never level-0 pixels.
/// </summary>
public sealed record SegmentOptions
{
    /// <summary>Model checkpoint; null = the bundled demo model.</summary>
    public string? ModelPath { get; init; }

    /// <summary>Analysis resolution in µm/px; null = the model card's.</summary>
    public double? Mpp { get; init; }

    /// <summary>MPP to assume for slides that record none.</summary>
    public double? AssumeMpp { get; init; }

    /// <summary>Analyse this pyramid level as is (no resampling).</summary>
    public int? Level { get; init; }

    public int Tile { get; init; } = SegmentDefaults.Tile;
    public int Overlap { get; init; } = SegmentDefaults.Overlap;
    public int BatchSize { get; init; } = SegmentDefaults.BatchSize;
    public BlendMode Blend { get; init; } = SegmentDefaults.Blend;
    public bool TissueMask { get; init; } = true;

    /// <summary>Patches with less tissue than this fraction are not run and are labelled background (see
    /// <see cref="SegmentDefaults.MinTissueFraction"/> for why 0.02).</summary>
    public double MinTissueFraction { get; init; } = SegmentDefaults.MinTissueFraction;

    /// <summary>Objects smaller than this (µm²) are dropped from the tissue mask.</summary>
    public double MinTissueObjectUm2 { get; init; } = SegmentDefaults.MinTissueObjectUm2;

    public string Device { get; init; } = SegmentDefaults.Device;
    public string Precision { get; init; } = SegmentDefaults.Precision;
    public int Threads { get; init; } = SegmentDefaults.Threads;

    public bool WriteGeoJson { get; init; } = true;
    public bool WriteOmeTiff { get; init; } = true;
    public bool WriteOverlay { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public SegmentOptions Validate()
    {
        if (TileLayout.Problem(Tile, Overlap) is { } layout) throw new ArgumentException($"--tile {Tile} --overlap {Overlap}: {layout}");
        if (BatchSize < 1 || BatchSize > 256) throw new ArgumentException($"--batch {BatchSize}: must be between 1 and 256");
        if (Mpp is <= 0) throw new ArgumentException($"--mpp {Mpp}: must be positive");
        if (AssumeMpp is <= 0) throw new ArgumentException($"--assume-mpp {AssumeMpp}: must be positive");
        if (Level is < 0) throw new ArgumentException($"--level {Level}: must be 0 or more");
        if (MinTissueFraction is < 0 or > 1) throw new ArgumentException($"--min-tissue {MinTissueFraction}: must be a fraction between 0 and 1");
        if (Precision is not ("fp32" or "bf16" or "auto" or "fp16")) throw new ArgumentException($"--precision {Precision}: use fp32, bf16, auto (bf16 where it is faster and agrees with fp32) or fp16 (CUDA only)");
        return this;
    }
}
