using WsiSegment.Stitching.Blending;
using WsiSegment.Stitching.Output;
using WsiSegment.Core.Classes;

namespace WsiSegment.Stitching.Reporting;

/// <summary>One class's share of the image: pixels at the analysis resolution and the physical area.</summary>
public sealed record ClassArea(int Label, string Name, long Pixels, double AreaMm2, double FractionOfTissue);

/// <summary>Per-class areas for the report; class 0 (background) is listed but is not tissue.</summary>
public sealed record ClassStatistics(IReadOnlyList<ClassArea> Classes, double Mpp, long TotalPixels, double TissueAreaMm2)
{
    /// <summary>Areas from the accumulator's pixel counts at <paramref name="mpp"/> µm per analysis pixel.</summary>
    public static ClassStatistics From(ClassPixelCounts counts, ClassTable classes, double mpp)
    {
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(classes);
        if (!double.IsFinite(mpp) || mpp <= 0) throw new ArgumentOutOfRangeException(nameof(mpp), mpp, "MPP must be positive");
        if (counts.Counts.Count > classes.Count)
            throw new ArgumentException($"{counts.Counts.Count} counted classes but only {classes.Count} names", nameof(classes));
        double mm2PerPixel = mpp * mpp * 1e-6; // µm² → mm²
        long tissue = counts.Counts.Skip(1).Sum();
        var areas = new ClassArea[classes.Count];
        for (int k = 0; k < classes.Count; k++)
        {
            long n = k < counts.Counts.Count ? counts.Counts[k] : 0;
            areas[k] = new ClassArea(k, classes[k].Name, n, n * mm2PerPixel, k == ClassTable.BackgroundId || tissue == 0 ? 0 : n / (double)tissue);
        }
        return new ClassStatistics(areas, mpp, counts.Total, tissue * mm2PerPixel);
    }
}
