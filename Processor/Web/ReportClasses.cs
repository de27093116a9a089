using WsiSegment.Core.Classes;
using WsiSegment.Processor.Segmentation;

namespace WsiSegment.Processor.Web;

/// <summary>How the web view reads a report's classes: which is background, and each class's share of the tissue.</summary>
public static class ReportClasses
{
    public static bool IsBackground(SegmentReport.ClassArea c) => c.Id == ClassTable.BackgroundId;

    /// <summary>Percent of the non-background pixels (what a pathologist compares), per class id; background gets null.</summary>
    public static IReadOnlyDictionary<int, double?> PercentOfTissue(IReadOnlyList<SegmentReport.ClassArea> classes)
    {
        long tissue = classes.Where(c => !IsBackground(c)).Sum(c => c.Pixels);
        return classes.ToDictionary(c => c.Id, c => IsBackground(c) || tissue == 0 ? (double?)null : Math.Round(100.0 * c.Pixels / tissue, 2));
    }
}
