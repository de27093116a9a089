namespace WsiSegment.Processor.Segmentation;

public enum BlendChoice { Gaussian, Cosine, Average, Crop }

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

    public int Tile { get; init; } = 1024;
    public int Overlap { get; init; } = 128;
    public int BatchSize { get; init; } = 1;
    public BlendChoice Blend { get; init; } = BlendChoice.Gaussian;
    public bool TissueMask { get; init; } = true;

    /// <summary>Patches with less tissue than this fraction are not run and are labelled background.</summary>
    public double MinTissueFraction { get; init; } = 0.02;

    /// <summary>Objects smaller than this (µm²) are dropped from the tissue mask.</summary>
    public double MinTissueObjectUm2 { get; init; } = 5_000;

    public string Device { get; init; } = "auto";
    public string Precision { get; init; } = "fp32";
    public int Threads { get; init; }

    public bool WriteGeoJson { get; init; } = true;
    public bool WriteOmeTiff { get; init; } = true;
    public bool WriteOverlay { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public SegmentOptions Validate()
    {
        if (Tile < 64 || Tile % 8 != 0) throw new ArgumentException($"--tile {Tile}: must be a multiple of 8 and at least 64");
        if (Overlap < 0 || Overlap >= Tile / 2) throw new ArgumentException($"--overlap {Overlap}: must be at least 0 and less than half the tile ({Tile / 2})");
        if (BatchSize < 1 || BatchSize > 256) throw new ArgumentException($"--batch {BatchSize}: must be between 1 and 256");
        if (Mpp is <= 0) throw new ArgumentException($"--mpp {Mpp}: must be positive");
        if (AssumeMpp is <= 0) throw new ArgumentException($"--assume-mpp {AssumeMpp}: must be positive");
        if (Level is < 0) throw new ArgumentException($"--level {Level}: must be 0 or more");
        if (MinTissueFraction is < 0 or > 1) throw new ArgumentException($"--min-tissue {MinTissueFraction}: must be a fraction between 0 and 1");
        if (Precision is not ("fp32" or "bf16" or "auto" or "fp16")) throw new ArgumentException($"--precision {Precision}: use fp32, bf16, auto (bf16 where it is faster and agrees with fp32) or fp16 (CUDA only)");
        return this;
    }
}
