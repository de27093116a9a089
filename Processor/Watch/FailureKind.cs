using WsiSegment.Tiling.Slides;

namespace WsiSegment.Processor.Watch;

/// <summary>Whether a failure may go away on its own (retry) or is a property of the input (never retried).</summary>
public enum FailureKind
{
    /// <summary>I/O trouble, memory pressure: tried again after a back-off, up to the attempt limit.</summary>
    Transient,

    /// <summary>Not a slide, a corrupt slide, or an error that would repeat: the slide goes to failed/ at once.</summary>
    Permanent,
}

public static class FailureClassifier
{
    public static FailureKind Classify(Exception e) => e switch
    {
        SlideException => FailureKind.Permanent,
        Isolation.WorkerReportedException w => w.Kind,
        AggregateException { InnerExceptions.Count: 1 } a => Classify(a.InnerExceptions[0]),
        OutOfMemoryException or InsufficientExecutionStackException => FailureKind.Transient,
        // A missing file means our own slide vanished under us (an operator, another tool): not the slide's fault.
        IOException or UnauthorizedAccessException => FailureKind.Transient,
        // Native allocators (libtorch, libvips) report exhaustion as their own exception types.
        _ when e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase) => FailureKind.Transient,
        _ => FailureKind.Permanent,
    };
}
