using WsiSegment.Processor.Cli;

namespace WsiSegment.Processor;

public static class Program
{
    public static Task<int> Main(string[] args) => CommandLineApp.RunAsync(args);
}
