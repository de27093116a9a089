namespace WsiSegment.Core.Scores;

/// <summary>What per-pixel class scores are.</summary>
public enum ScoreKind
{
    /// <summary>Softmax probabilities (sum to 1 over the classes): blended as they are.</summary>
    Probabilities,
    /// <summary>Raw network outputs: turned into probabilities only where tiles overlap (where blending needs them);
    /// a pixel a single tile covers takes the argmax of the logits, which softmax does not change.</summary>
    Logits,
}

/// <summary>
/// How a block of class scores is laid out, carried with the scores from the network to the stitcher: always
/// channels-last (per image H × W × <see cref="Channels"/> floats, the class index fastest — the channels-last
/// network's own layout, so handing scores on needs no transpose), holding <see cref="Kind"/> values.
/// </summary>
public readonly record struct ScoreLayout
{
    public ScoreLayout(ScoreKind kind, int channels)
    {
        if (!Enum.IsDefined(kind)) throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown score kind");
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        Kind = kind;
        Channels = channels;
    }

    public ScoreKind Kind { get; }

    /// <summary>Classes per pixel (the innermost dimension).</summary>
    public int Channels { get; }

    /// <summary>Floats in an image of <paramref name="height"/> × <paramref name="width"/> pixels.</summary>
    public long ImageLength(int height, int width) => (long)height * width * Channels;

    public override string ToString() => $"{Kind}, channels-last × {Channels}";
}
