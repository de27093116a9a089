using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Processor.Cli;

/// <summary>
/// Runs a command body with a logger, turning every failure into one line on stderr that names the file and
/// the reason, and a non-zero exit code. Stack traces go to the log at debug level (-v), never to the user.
/// </summary>
public static class CommandRunner
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Cancelled = 130;

    public static ILoggerFactory CreateLoggerFactory(LogLevel level) => LoggerFactory.Create(b => b
        .SetMinimumLevel(level)
        .AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
            o.ColorBehavior = Console.IsErrorRedirected ? LoggerColorBehavior.Disabled : LoggerColorBehavior.Default;
        })
        .AddFilter("Microsoft", LogLevel.Warning)
        .Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace));

    public static async Task<int> RunAsync(ParseResult parse, string commandName, CancellationToken ct,
        Func<ILoggerFactory, CancellationToken, Task<int>> body)
    {
        using var factory = CreateLoggerFactory(GlobalOptions.LogLevelOf(parse));
        var log = factory.CreateLogger("wsi-segment." + commandName);
        try
        {
            return await body(factory, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Console.Error.WriteLine($"{commandName}: cancelled");
            return Cancelled;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"error: {Describe(e)}");
            log.LogDebug(e, "{Command} failed", commandName);
            return Failed;
        }
    }

    /// <summary>One line for the user: our exceptions already name the file; others get their type's gist.</summary>
    public static string Describe(Exception e) => e switch
    {
        SlideException or UserError or WsiSegment.Tiling.Labels.LabelFileException => OneLine(e.Message),
        WsiSegment.Model.Weights.WeightMismatchException or WsiSegment.Model.Cards.ModelCardException
            or WsiSegment.Model.Weights.SafetensorsFormatException => OneLine(e.Message),
        WsiSegment.Model.Training.DatasetFormatException => OneLine(e.Message),
        WsiSegment.Stitching.Output.OutputGeometryException => OneLine(e.Message),
        // Already described, in these words, by the watch worker process it happened in.
        Watch.Isolation.WorkerReportedException => OneLine(e.Message),
        FileNotFoundException f => $"{f.FileName ?? "file"}: not found",
        UnauthorizedAccessException => OneLine(e.Message),
        IOException => OneLine(e.Message),
        AggregateException { InnerExceptions.Count: 1 } a => Describe(a.InnerExceptions[0]),
        _ => $"{OneLine(e.Message)} ({e.GetType().Name})",
    };

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();
}

/// <summary>An error in what the user asked for (bad option, missing input), reported as one line without a stack trace.</summary>
public sealed class UserError(string message, Exception? inner = null) : Exception(message, inner);
