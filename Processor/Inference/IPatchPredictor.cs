using WsiSegment.Core.Scores;

namespace WsiSegment.Processor.Inference;

/// <summary>The network stage of <see cref="PatchInferer"/>: a batch of RGB patches in, one score image per patch out.
/// Called from the inferer's one dedicated thread only.</summary>
public interface IPatchPredictor
{
    /// <summary>Scores <paramref name="count"/> patches of <paramref name="tile"/>² pixels, packed HWC (R, G, B bytes)
    /// one after another in <paramref name="rgb"/>. The caller owns (and disposes) the result.</summary>
    IPatchScores Predict(ReadOnlySpan<byte> rgb, int count, int tile);
}

/// <summary>The scores of one batch, in patch order; owns whatever native memory holds them.</summary>
public interface IPatchScores : IDisposable
{
    int Count { get; }

    /// <summary>What each pixel's values are (logits or probabilities, how many channels): the merger reads it from here.</summary>
    ScoreLayout Layout { get; }

    /// <summary>The scores of patch <paramref name="index"/> of the batch (valid until disposed).</summary>
    ReadOnlySpan<float> Image(int index);
}
