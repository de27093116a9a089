namespace WsiSegment.Processor.Watch;

/// <summary>How the handling of one candidate slide ended.</summary>
public enum SlideOutcome
{
    /// <summary>Someone else had it (or it vanished): nothing done.</summary>
    NotTaken,
    Done,
    Failed,
    /// <summary>Outputs with the same slide and model hash already existed.</summary>
    Skipped,
    /// <summary>Shutdown: cancelled cleanly and put back in the inbox.</summary>
    Abandoned,
    /// <summary>Our claim was taken back by another worker; we stopped and left everything to it.</summary>
    Lost,
}
