using System.CommandLine;
using WsiSegment.Processor.Commands;

namespace WsiSegment.Processor.Cli;

/// <summary>The `wsi-segment` command tree. Each command lives in its own file under Commands/.</summary>
public static class CommandLineApp
{
    public static RootCommand Build()
    {
        var root = new RootCommand("wsi-segment: segment whole-slide images into tissue classes with ESPNet.");
        root.Options.Add(GlobalOptions.Verbose);
        root.Options.Add(GlobalOptions.Quiet);
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(WatchCommand.Create());
        root.Subcommands.Add(SegmentCommand.Create());
        root.Subcommands.Add(SynthCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(ExtractCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(ModelCommand.Create());
        root.Subcommands.Add(PredictCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(ClusterCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(WatchWorkerCommand.Create());
        return root;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var root = Build();
        var result = root.Parse(args);
        // The watch service's host handles SIGTERM/Ctrl+C itself (grace period for the current slide); the parser's
        // own handler would end the process after its 2 s termination timeout.
        var config = new InvocationConfiguration();
        if (result.CommandResult.Command.Name is WatchCommand.Name or WatchWorkerCommand.Name) config.ProcessTerminationTimeout = null;
        // A cluster task stops at the next slide boundary or cancels the current slide itself, then exits for requeue.
        else if (result.CommandResult.Command.Name == ClusterRunTaskCommand.Name) config.ProcessTerminationTimeout = null;
        // segment: long enough for a native write to reach its next cancellation check, so the staging folder is
        // removed and one "cancelled" line printed instead of the process ending mid-write.
        else if (result.CommandResult.Command.Name == "segment") config.ProcessTerminationTimeout = TimeSpan.FromSeconds(60);
        return await result.InvokeAsync(config);
    }
}
