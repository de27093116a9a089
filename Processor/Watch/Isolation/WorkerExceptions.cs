namespace WsiSegment.Processor.Watch.Isolation;

/// <summary>
/// The worker process died in the middle of a slide (a native abort or segfault, a kill, an exit mid-slide): the
/// service lives on, counts the crash against the slide (<see cref="CrashLedger"/>) and starts a new worker.
/// </summary>
public sealed class WorkerCrashedException(string slidePath, int pid, DateTimeOffset startedUtc, string? stage, string how)
    : Exception($"{slidePath}: the worker process (pid {pid}) {how}{(stage is null ? "" : " during " + stage)}")
{
    public int Pid { get; } = pid;

    /// <summary>When the attempt that crashed began.</summary>
    public DateTimeOffset StartedUtc { get; } = startedUtc;

    /// <summary>The last stage the worker reported for the slide, if any.</summary>
    public string? Stage { get; } = stage;

    /// <summary>How it ended, e.g. "was killed by SIGABRT (exit status 134; last output: …)".</summary>
    public string How { get; } = how;
}

/// <summary>
/// A slide that failed inside the worker process with an ordinary error: the worker's own description, exception
/// type and classification, so that error.json, retries and the log read as they do in-process.
/// </summary>
public sealed class WorkerReportedException(string message, string exceptionType, FailureKind kind) : Exception(message)
{
    /// <summary>The type name of the exception in the worker (e.g. CorruptSlideException, IOException).</summary>
    public string ExceptionType { get; } = exceptionType;

    public FailureKind Kind { get; } = kind;
}

/// <summary>The worker process could not be started or did not get ready (model missing, cannot exec).</summary>
public sealed class WorkerStartException(string message, Exception? inner = null) : IOException(message, inner);
