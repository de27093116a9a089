namespace WsiSegment.Tiling.Phantoms;

/// <summary>What phantom to generate. Validated by <see cref="Validate"/> before any pixel is made.</summary>
public sealed record PhantomOptions
{
    public required int Width { get; init; }
    public required int Height { get; init; }
    public int Seed { get; init; }

    /// <summary>Fraction of the slide covered by tissue (the rest is white background), in (0, 1].</summary>
    public double TissueFraction { get; init; } = 0.6;

    /// <summary>Microns per pixel of level 0; textures are sized in microns so they look alike at any MPP.</summary>
    public double Mpp { get; init; } = 0.5;

    public void Validate()
    {
        if (Width < 64 || Height < 64 || Width > 1_000_000 || Height > 1_000_000)
            throw new ArgumentOutOfRangeException(nameof(Width), $"phantom size {Width}x{Height} must be between 64 and 1,000,000 pixels a side");
        if (!(TissueFraction > 0 && TissueFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(TissueFraction), TissueFraction, "tissue fraction must be in (0, 1]");
        if (!(Mpp >= 0.1 && Mpp <= 10))
            throw new ArgumentOutOfRangeException(nameof(Mpp), Mpp, "MPP must be between 0.1 and 10 µm per pixel");
    }
}
