namespace WsiSegment.Processor.Inference;

/// <summary>Seconds: the stream's wall time; the network stage idle while the pipeline filled (before its first batch),
/// waiting for patches after that (reading fell behind), and waiting to hand scores to the merger.</summary>
public sealed record PatchStreamStats(double Seconds, double FillSeconds, double WaitedForPatchesSeconds, double WaitedForMergerSeconds);

/// <summary>Patches merged so far out of the total, and the rate since the stream started.</summary>
public readonly record struct InferenceProgress(long Merged, long Total, double PatchesPerSecond);
