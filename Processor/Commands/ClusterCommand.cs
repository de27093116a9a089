using System.CommandLine;

namespace WsiSegment.Processor.Commands;

/// <summary>`wsi-segment cluster submit|run-task|status`: many slides on a Slurm cluster as one job array.</summary>
public static class ClusterCommand
{
    public static Command Create() => new("cluster", "Segment many slides on a Slurm cluster: one job array, several slides per task.")
    {
        ClusterSubmitCommand.Create(),
        ClusterRunTaskCommand.Create(),
        ClusterStatusCommand.Create(),
    };
}
