namespace WsiSegment.Core.Blending;

/// <summary>How overlapping tile predictions are weighted where tiles overlap (`--blend`).</summary>
public enum BlendMode
{
    /// <summary>Gaussian window, sigma = 0.125 × tile (as MONAI), floored so border pixels keep a small weight.</summary>
    Gaussian,
    /// <summary>Hann (raised cosine) window, floored like <see cref="Gaussian"/>.</summary>
    Cosine,
    /// <summary>Every tile pixel weighs the same: a plain mean of the overlapping predictions.</summary>
    Average,
    /// <summary>Each pixel comes from the tile whose centre is nearest (others keep only a negligible floor weight,
    /// so a pixel whose nearest tile was skipped still takes the prediction of the tile that did run).</summary>
    Crop,
}
