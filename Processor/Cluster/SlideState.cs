namespace WsiSegment.Processor.Cluster;

/// <summary>Where one slide of a cluster job stands: pending, running, done, failed (with the reason) or incomplete
/// (its task ended without outputs or an error record).</summary>
public sealed record SlideState(string Slide, int Task, string State, string? Reason, int Requeues, string? Node)
{
    public const string Pending = "pending", Running = "running", Done = "done", Failed = "failed", Incomplete = "incomplete";
}

/// <summary>A job's slides, and whether the array has ended (no task pending or running any more).</summary>
public sealed record JobStatus(string Name, string? JobId, string OutDir, IReadOnlyList<SlideState> Slides, bool Finished, string Source)
{
    public int Count(string state) => Slides.Count(s => s.State == state);

    public bool AnyFailed => Slides.Any(s => s.State is SlideState.Failed or SlideState.Incomplete);
}
