using WsiSegment.Processor.Segmentation;

namespace WsiSegment.Processor.Web;

/// <summary>
/// One segmented slide as the web view knows it: its report, the real paths of the files it may serve (all inside
/// the served folders), and a version string that changes whenever one of them does (for ETags).
/// </summary>
public sealed record SlideEntry(
    string Id,
    string Name,
    string ReportPath,
    SegmentReport Report,
    string? SlidePath,
    string? MaskPath,
    IReadOnlyDictionary<string, string> Files,
    string Version,
    DateTime ReportWrittenUtc);
