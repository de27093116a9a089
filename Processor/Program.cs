using WsiSegment.Processor.Cli;

namespace WsiSegment.Processor;

public static class Program
{
    public static Task<int> Main(string[] args)
    {
        SingleArenaRelaunch.IfNeeded(args);
        return CommandLineApp.RunAsync(args);
    }
}
