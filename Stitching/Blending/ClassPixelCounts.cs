namespace WsiSegment.Stitching.Blending;

/// <summary>Final label pixels per class (index = class id) of a stitched image, in analysis pixels.</summary>
public sealed record ClassPixelCounts(IReadOnlyList<long> Counts)
{
    public long Total => Counts.Sum();
}
