namespace WsiSegment.Tiling.Resolution;

/// <summary>Where the level-0 MPP used for planning came from.</summary>
public enum MppSource
{
    /// <summary>The slide file's own calibration.</summary>
    Metadata,
    /// <summary>The user's <see cref="ResolutionOptions.AssumeMpp"/> (the file has none).</summary>
    Assumed,
    /// <summary>No MPP at all: a forced level analysed at its native resolution; µm values are null.</summary>
    Unknown,
}

/// <summary>
/// The resolution a slide is analysed at ("analysis space"). Analysis pixel (x, y) covers level-0 pixels
/// [x·d, (x+1)·d) × [y·d, (y+1)·d) with d = <see cref="DownsampleToLevel0"/>: its top-left corner is level-0
/// pixel (x·d, y·d). Level pixel (u, v) maps to analysis pixel (u / Scale, v / Scale).
/// </summary>
public sealed record AnalysisPlan
{
    public required string SlidePath { get; init; }

    /// <summary>Pyramid level that is read.</summary>
    public required int Level { get; init; }

    /// <summary>Level-0 pixels per pixel of <see cref="Level"/> (the pyramid's integer factor when the level's size agrees with one).</summary>
    public required double LevelDownsample { get; init; }

    /// <summary>µm per pixel of the level read; null when the MPP is unknown.</summary>
    public double? LevelMpp { get; init; }

    /// <summary>µm per pixel requested (the model's); null when the MPP is unknown.</summary>
    public double? TargetMpp { get; init; }

    /// <summary>Level pixels per analysis pixel, ≥ 1. Exactly 1 means the level is used as is.</summary>
    public required double Scale { get; init; }

    /// <summary>Size of the analysis image in pixels.</summary>
    public required int Width { get; init; }

    /// <summary>Size of the analysis image in pixels.</summary>
    public required int Height { get; init; }

    /// <summary>Level-0 pixels per analysis pixel: <see cref="LevelDownsample"/> × <see cref="Scale"/>.</summary>
    public required double DownsampleToLevel0 { get; init; }

    public required MppSource MppSource { get; init; }

    /// <summary>
    /// True when no level is as fine as the target (or a forced level is coarser): the slide is analysed at
    /// <see cref="AnalysisMpp"/>, coarser than the model expects. Worth a warning.
    /// </summary>
    public bool CoarserThanTarget { get; init; }

    /// <summary>µm per analysis pixel actually used (= LevelMpp × Scale); null when the MPP is unknown.</summary>
    public double? AnalysisMpp => LevelMpp * Scale;

    /// <summary>µm per level-0 pixel that planning used; null when unknown.</summary>
    public double? Level0Mpp => LevelMpp / LevelDownsample;
}
