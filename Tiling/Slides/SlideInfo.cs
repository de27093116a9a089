namespace WsiSegment.Tiling.Slides;

/// <summary>What a slide is, as `wsi-segment info` reports it. Plain data, serialisable as JSON.</summary>
public sealed record SlideInfo
{
    public required string Path { get; init; }
    public required long FileBytes { get; init; }
    /// <summary>"openslide" when OpenSlide reads the file, else the libvips loader's short name (tiff, png, jpeg...).</summary>
    public required string Reader { get; init; }
    /// <summary>Vendor as OpenSlide names it (aperio, hamamatsu, mirax, generic-tiff...) or the file format for plain images.</summary>
    public required string Format { get; init; }
    public required IReadOnlyList<SlideLevel> Levels { get; init; }
    public double? MppX { get; init; }
    public double? MppY { get; init; }
    public double? ObjectivePower { get; init; }
    public required IReadOnlyList<string> AssociatedImages { get; init; }
    public int Bands { get; init; }
    /// <summary>What may be wrong with the slide without making it unreadable (empty tiles, …).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}
