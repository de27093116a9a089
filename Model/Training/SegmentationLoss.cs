using static TorchSharp.torch;

namespace WsiSegment.Model.Training;

/// <summary>
/// The paper's class-weighted cross-entropy over labelled pixels only: targets equal to
/// <see cref="PatchAugmenter.IgnoreLabel"/> (unannotated or padding) add nothing to the loss, its normaliser or the
/// gradient. A batch without a labelled pixel has no loss (null) rather than PyTorch's 0/0 = NaN.
/// </summary>
public static class SegmentationLoss
{
    /// <summary>Labelled pixels of a label batch (bytes as the loader makes them).</summary>
    public static long LabelledPixels(ReadOnlySpan<byte> labels)
    {
        // Count the ignore value with the vectorised Count, then subtract.
        return labels.Length - System.MemoryExtensions.Count(labels, PatchAugmenter.IgnoreLabel);
    }

    /// <summary>Weighted mean cross-entropy (N×C×H×W logits, N×H×W int64 targets); null when every target is ignored.</summary>
    public static Tensor? Compute(Tensor logits, Tensor target, Tensor classWeights, long labelledPixels)
    {
        if (labelledPixels == 0) return null;
        return nn.functional.cross_entropy(logits, target, weight: classWeights, ignore_index: PatchAugmenter.IgnoreLabel);
    }
}
