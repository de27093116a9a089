using WsiSegment.Model.Runtime;
using WsiSegment.Processor.Cli;

namespace WsiSegment.Processor;

public static class Program
{
    public static Task<int> Main(string[] args)
    {
        SingleArenaRelaunch.IfNeeded(args);
        // First, so that every thread started from here on inherits flush-to-zero (see DenormalMode).
        DenormalMode.PrepareThisThread();
        return CommandLineApp.RunAsync(args);
    }
}
