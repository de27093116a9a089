using System.Globalization;

namespace WsiSegment.Processor.Watch.Isolation;

/// <summary>How a child process ended, in words. .NET reports a child killed by signal N as exit status 128 + N.</summary>
public static class ExitStatus
{
    private static readonly Dictionary<int, string> Signals = new()
    {
        [1] = "SIGHUP", [2] = "SIGINT", [3] = "SIGQUIT", [4] = "SIGILL", [5] = "SIGTRAP", [6] = "SIGABRT", [7] = "SIGBUS",
        [8] = "SIGFPE", [9] = "SIGKILL", [11] = "SIGSEGV", [13] = "SIGPIPE", [15] = "SIGTERM", [24] = "SIGXCPU", [25] = "SIGXFSZ",
    };

    /// <summary>The signal that ended a process with this exit status (e.g. "SIGABRT"), or null for an ordinary exit.</summary>
    public static string? SignalOf(int exitCode) =>
        exitCode is > 128 and < 128 + 65 ? Signals.GetValueOrDefault(exitCode - 128, "signal " + (exitCode - 128).ToString(CultureInfo.InvariantCulture)) : null;

    public static string Describe(int exitCode) => SignalOf(exitCode) is { } signal
        ? $"was killed by {signal} (exit status {exitCode})"
        : $"exited with status {exitCode}";
}
