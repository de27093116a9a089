namespace WsiSegment.Tiling.Slides;

/// <summary>
/// What a slide may declare before we decode any of it. A file's header is cheap to forge: a 7.5 KB TIFF can claim
/// 2^20-pixel tiles (GLib aborts the process allocating one), a 689-byte JPEG 65,500² pixels (12 GB of temporary
/// file). These limits are checked against the header, before libvips or OpenSlide touch the pixels.
/// </summary>
public sealed record SlideLimits
{
    /// <summary>Pixels in one level (default 64 gigapixels: 250,000² µm at 1 µm/px is far beyond any scanner).</summary>
    public long MaxPixels { get; init; } = 64L << 30;

    /// <summary>Longest side of a level (default 2^22 = 4,194,304).</summary>
    public int MaxSide { get; init; } = 1 << 22;

    /// <summary>Longest side of a TIFF tile (default 8192: one decoded RGBA tile is then at most 256 MiB; scanners use 240–2048).</summary>
    public int MaxTileSide { get; init; } = 8192;

    /// <summary>Bytes an image that has to be decoded whole (JPEG, PNG, one TIFF strip) may decode to (default 1 GiB).</summary>
    public long MaxWholeDecodeBytes { get; init; } = 1L << 30;

    /// <summary>How long opening and reading a slide's header may take (a hung network mount is an error, not a hang).</summary>
    public TimeSpan OpenTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public static SlideLimits Default { get; } = new();

    /// <summary>The limits every <see cref="SlideSource.Open(string)"/> applies (a command may set them once at start).</summary>
    public static SlideLimits Current { get; set; } = Default;
}
