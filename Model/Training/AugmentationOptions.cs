namespace WsiSegment.Model.Training;

/// <summary>Random transformations applied to training patches (never to validation patches).</summary>
public sealed record AugmentationOptions
{
    /// <summary>Zoom range, sampled log-uniformly: 0.75..1.25 shows tissue up to 25% smaller or larger.</summary>
    public double MinScale { get; init; } = 0.75;
    public double MaxScale { get; init; } = 1.25;

    /// <summary>Random horizontal/vertical flips and 90° rotations (tissue has no up or left).</summary>
    public bool Flips { get; init; } = true;
    public bool Rotations { get; init; } = true;

    /// <summary>H&amp;E stain jitter (Tellez et al. 2018): each stain channel scaled by 1±σ and shifted by ±σ in optical density.</summary>
    public double StainJitter { get; init; } = 0.05;

    /// <summary>Brightness (additive, in 0..1 units) and contrast (multiplicative) jitter amplitudes.</summary>
    public double Brightness { get; init; } = 0.08;
    public double Contrast { get; init; } = 0.1;

    public static AugmentationOptions None { get; } = new()
    {
        MinScale = 1, MaxScale = 1, Flips = false, Rotations = false, StainJitter = 0, Brightness = 0, Contrast = 0,
    };

    public void Validate()
    {
        if (!(MinScale > 0) || !(MaxScale >= MinScale) || MaxScale > 8)
            throw new ArgumentException($"scale range {MinScale}..{MaxScale} must satisfy 0 < min <= max <= 8");
        if (StainJitter is < 0 or > 0.5) throw new ArgumentException($"stain jitter {StainJitter} must be within 0..0.5");
        if (Brightness is < 0 or > 0.5) throw new ArgumentException($"brightness jitter {Brightness} must be within 0..0.5");
        if (Contrast is < 0 or > 0.5) throw new ArgumentException($"contrast jitter {Contrast} must be within 0..0.5");
    }
}
