namespace WsiSegment.Tiling.Labels;

/// <summary>Label values with a meaning beyond a class id.</summary>
public static class LabelValues
{
    /// <summary>
    /// Unlabelled: no annotation covers the pixel, or it lies outside the image. Training gives it no loss and
    /// evaluation no count (the same value as the trainer's ignore index).
    /// </summary>
    public const byte Ignore = 255;
}
