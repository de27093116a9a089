namespace WsiSegment.Tiling.Resolution;

/// <summary>
/// How to choose the resolution a slide is analysed at. Validated when set: every value must be positive.
/// </summary>
public sealed record ResolutionOptions
{
    private readonly double _targetMpp = 1.0;
    private readonly double? _assumeMpp;
    private readonly int? _level;
    private readonly double _tolerance = 0.01;

    /// <summary>µm per pixel the model expects (from the model card, or the user's override).</summary>
    public required double TargetMpp
    {
        get => _targetMpp;
        init => _targetMpp = double.IsFinite(value) && value > 0 ? value
            : throw new ArgumentOutOfRangeException(nameof(TargetMpp), value, "target MPP must be a positive number of µm per pixel");
    }

    /// <summary>
    /// µm per pixel of level 0 for slides whose file carries no MPP. Ignored when the file has one
    /// (the scanner's calibration wins; see <see cref="AnalysisPlan.MppSource"/>).
    /// </summary>
    public double? AssumeMpp
    {
        get => _assumeMpp;
        init => _assumeMpp = value is null || (double.IsFinite(value.Value) && value > 0) ? value
            : throw new ArgumentOutOfRangeException(nameof(AssumeMpp), value, "assumed MPP must be a positive number of µm per pixel");
    }

    /// <summary>
    /// Forces the pyramid level to read. With a known MPP the level is still resampled to <see cref="TargetMpp"/>
    /// when it is finer; without one it is analysed at its native resolution.
    /// </summary>
    public int? Level
    {
        get => _level;
        init => _level = value is null or >= 0 ? value
            : throw new ArgumentOutOfRangeException(nameof(Level), value, "level must be 0 or more");
    }

    /// <summary>
    /// Relative slack: a level up to this much coarser than the target still counts as "at the target", and a
    /// resample factor within it of 1 is skipped (a 0.499 µm scan is analysed as is for a 0.5 µm model rather than
    /// blurred by a 0.2% Lanczos resample).
    /// </summary>
    public double Tolerance
    {
        get => _tolerance;
        init => _tolerance = value is >= 0 and < 0.5 ? value
            : throw new ArgumentOutOfRangeException(nameof(Tolerance), value, "tolerance must be in [0, 0.5)");
    }
}
