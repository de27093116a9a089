using System.CommandLine;
using Microsoft.Extensions.Logging;

namespace WsiSegment.Processor.Cli;

/// <summary>Options every command understands.</summary>
public static class GlobalOptions
{
    public static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Log debug detail (including stack traces of errors) to stderr.",
        Recursive = true,
    };

    public static readonly Option<bool> Quiet = new("--quiet", "-q")
    {
        Description = "Log only errors.",
        Recursive = true,
    };

    public static LogLevel LogLevelOf(ParseResult parse) =>
        parse.GetValue(Verbose) ? LogLevel.Debug : parse.GetValue(Quiet) ? LogLevel.Error : LogLevel.Information;
}
