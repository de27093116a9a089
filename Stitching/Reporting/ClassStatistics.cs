using WsiSegment.Stitching.Blending;
using WsiSegment.Stitching.Output;
using WsiSegment.Core.Classes;

namespace WsiSegment.Stitching.Reporting;

/// <summary>One class's share of the image: pixels at the analysis resolution, the physical area (when the MPP is
/// known), and its fraction of the tissue and of the whole image.</summary>
public sealed record ClassArea(int Label, string Name, long Pixels, double? AreaMm2, double FractionOfTissue, double FractionOfImage);

/// <summary>Per-class areas for the report; class 0 (background) is listed but is not tissue.</summary>
public sealed record ClassStatistics(IReadOnlyList<ClassArea> Classes, double? Mpp, long TotalPixels, double? TissueAreaMm2)
{
    /// <summary>Areas from the accumulator's pixel counts at <paramref name="mpp"/> µm per analysis pixel (null: pixels
    /// only, for a slide analysed at a level without a known MPP).</summary>
    public static ClassStatistics From(ClassPixelCounts counts, ClassTable classes, double? mpp)
    {
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(classes);
        if (mpp is { } m && (!double.IsFinite(m) || m <= 0)) throw new ArgumentOutOfRangeException(nameof(mpp), mpp, "MPP must be positive");
        if (counts.Counts.Count > classes.Count)
            throw new ArgumentException($"{counts.Counts.Count} counted classes but only {classes.Count} names", nameof(classes));
        long tissue = counts.Counts.Skip(1).Sum();
        long image = Math.Max(1, counts.Total);
        var areas = new ClassArea[classes.Count];
        for (int k = 0; k < classes.Count; k++)
        {
            long n = k < counts.Counts.Count ? counts.Counts[k] : 0;
            areas[k] = new ClassArea(k, classes[k].Name, n, Mm2(n, mpp), k == ClassTable.BackgroundId || tissue == 0 ? 0 : n / (double)tissue, n / (double)image);
        }
        return new ClassStatistics(areas, mpp, counts.Total, Mm2(tissue, mpp));
    }

    private static double? Mm2(long pixels, double? mpp) => mpp is { } m ? pixels * m * m / 1e6 : null; // µm² → mm²
}
