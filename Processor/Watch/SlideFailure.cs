namespace WsiSegment.Processor.Watch;

/// <summary>What STEM.error.json says about a slide that could not be segmented.</summary>
public sealed record SlideFailure(
    string Slide,
    string Reason,
    string Stage,
    string ExceptionType,
    int Attempts,
    string Kind,
    string Host,
    int Pid,
    DateTimeOffset FailedUtc);
