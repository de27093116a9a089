namespace WsiSegment.Processor.Cluster;

/// <summary>
/// One array task as the scheduler reports it. A pending range that Slurm has not split yet ("2-5%2") is one record
/// per task id here, all with the same state.
/// </summary>
public sealed record SlurmTask(string JobId, int? TaskId, string State, string? Reason, int RestartCount, string? Node, int? ExitCode)
{
    /// <summary>States in which a task may still do work (it or its requeue has not ended).</summary>
    public bool IsActive => State is "PENDING" or "RUNNING" or "CONFIGURING" or "COMPLETING" or "REQUEUED" or "REQUEUE_FED"
        or "REQUEUE_HOLD" or "RESIZING" or "SUSPENDED" or "STOPPED" or "SIGNALING" or "STAGE_OUT";
}
