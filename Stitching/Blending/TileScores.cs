namespace WsiSegment.Stitching.Blending;

/// <summary>What the per-pixel class scores handed to <see cref="BandAccumulator"/> are.</summary>
public enum TileScores
{
    /// <summary>Probabilities (softmax already applied): blended as they are.</summary>
    Probabilities,
    /// <summary>Raw logits: turned into probabilities only where tiles overlap (where blending needs them); pixels
    /// a single tile covers take the argmax of the logits, which softmax does not change.</summary>
    Logits,
}
