using WsiSegment.Core.Defaults;

namespace WsiSegment.Tiling.Tissue;

/// <summary>What the slide's background looks like.</summary>
public enum TissueBackground
{
    /// <summary>Decide from the thumbnail: median brightness (HSV V) below half scale means dark.</summary>
    Auto,
    /// <summary>Brightfield (H&amp;E, IHC): white glass, tissue is coloured or dark.</summary>
    Bright,
    /// <summary>Fluorescence: black background, tissue is where there is signal.</summary>
    Dark,
}

/// <summary>Tissue detection settings. Thresholds are on 0–255 scales; Otsu picks them within the given ranges.</summary>
public sealed record TissueOptions
{
    /// <summary>µm per pixel the detector works at (8–16 is plenty for tissue outlines). Default 8.</summary>
    public double WorkingMpp { get; init; } = 8.0;

    /// <summary>Tiny slides are analysed at a finer resolution so that the mask has at least this many pixels on its long side.</summary>
    public int MinWorkingSide { get; init; } = 64;

    /// <summary>
    /// Huge slides are analysed coarser than <see cref="WorkingMpp"/> so that the mask has at most this many pixels
    /// on its long side: the detector needs ~25 bytes per mask pixel (RGB, channels, component labels), which for
    /// a 40,000×48,000 slide at 2 µm/px would otherwise be 3 GB. Default 4096.
    /// </summary>
    public int MaxWorkingSide { get; init; } = 4096;

    /// <summary>Level-0 µm per pixel assumed when the slide has none (the mask's areas are then nominal). Default 0.5 (20×).</summary>
    public double NominalMpp { get; init; } = 0.5;

    public TissueBackground Background { get; init; } = TissueBackground.Auto;

    /// <summary>Bright background: Otsu's saturation threshold is clamped to this range (tissue is more saturated).</summary>
    public int MinSaturationThreshold { get; init; } = 15;
    public int MaxSaturationThreshold { get; init; } = 50;

    /// <summary>Bright background: Otsu's grey threshold is clamped to this range (tissue is darker).</summary>
    public int MinGreyThreshold { get; init; } = 100;
    public int MaxGreyThreshold { get; init; } = 210;

    /// <summary>Bright background: pixels at least this light (grey) are glass, whatever their saturation.</summary>
    public int WhiteLevel { get; init; } = 235;

    /// <summary>Bright background: pixels whose brightest channel is below this are scanner padding, not tissue.</summary>
    public int BlackLevel { get; init; } = 10;

    /// <summary>Dark background: Otsu's brightness (max channel) threshold is clamped to this range (tissue is brighter).</summary>
    public int MinSignalThreshold { get; init; } = 12;
    public int MaxSignalThreshold { get; init; } = 60;

    /// <summary>Radius (µm) of the disk used to close gaps and open away specks. Default 16. 0 disables.</summary>
    public double CleanupRadiusUm { get; init; } = 16;

    /// <summary>
    /// Dark background: radius (µm) of the closing disk. Larger, because fluorescent nuclei are points with dark
    /// cytoplasm between them; the closing merges them into tissue regions. Default 40.
    /// </summary>
    public double DarkCleanupRadiusUm { get; init; } = 40;

    /// <summary>Objects smaller than this (µm²) are dropped (at most 1% of the slide's area, so tiny images keep theirs).
    /// Default: segment's, <see cref="SegmentDefaults.MinTissueObjectUm2"/>.</summary>
    public double MinObjectAreaUm2 { get; init; } = SegmentDefaults.MinTissueObjectUm2;

    /// <summary>Holes smaller than this (µm²) inside tissue are filled. Default 10,000.</summary>
    public double MaxHoleAreaUm2 { get; init; } = 10_000;

    public TissueOptions Validate()
    {
        if (!(WorkingMpp > 0)) throw new ArgumentOutOfRangeException(nameof(WorkingMpp), WorkingMpp, "must be positive");
        if (!(NominalMpp > 0)) throw new ArgumentOutOfRangeException(nameof(NominalMpp), NominalMpp, "must be positive");
        if (MinWorkingSide < 1) throw new ArgumentOutOfRangeException(nameof(MinWorkingSide), MinWorkingSide, "must be at least 1");
        if (MaxWorkingSide < MinWorkingSide) throw new ArgumentOutOfRangeException(nameof(MaxWorkingSide), MaxWorkingSide, $"must be at least MinWorkingSide ({MinWorkingSide})");
        if (!(DarkCleanupRadiusUm >= 0)) throw new ArgumentOutOfRangeException(nameof(DarkCleanupRadiusUm), DarkCleanupRadiusUm, "must be 0 or more");
        if (!(CleanupRadiusUm >= 0)) throw new ArgumentOutOfRangeException(nameof(CleanupRadiusUm), CleanupRadiusUm, "must be 0 or more");
        if (!(MinObjectAreaUm2 >= 0)) throw new ArgumentOutOfRangeException(nameof(MinObjectAreaUm2), MinObjectAreaUm2, "must be 0 or more");
        if (!(MaxHoleAreaUm2 >= 0)) throw new ArgumentOutOfRangeException(nameof(MaxHoleAreaUm2), MaxHoleAreaUm2, "must be 0 or more");
        CheckRange(MinSaturationThreshold, MaxSaturationThreshold, nameof(MinSaturationThreshold));
        CheckRange(MinGreyThreshold, MaxGreyThreshold, nameof(MinGreyThreshold));
        CheckRange(MinSignalThreshold, MaxSignalThreshold, nameof(MinSignalThreshold));
        return this;
    }

    private static void CheckRange(int lo, int hi, string name)
    {
        if (lo < 0 || hi > 255 || lo > hi)
            throw new ArgumentOutOfRangeException(name, $"{lo}..{hi}", "threshold range must satisfy 0 ≤ min ≤ max ≤ 255");
    }
}
