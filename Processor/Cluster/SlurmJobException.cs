namespace WsiSegment.Processor.Cluster;

/// <summary>A Slurm job that ended without the slide's outputs or an error record (TIMEOUT, OUT_OF_MEMORY,
/// CANCELLED, …): the job's state is the reason. Not retried by the watch service: it would end the same way.</summary>
public sealed class SlurmJobException(string message) : Exception(message);
