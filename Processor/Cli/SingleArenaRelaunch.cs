using System.Runtime.InteropServices;
using System.Text;

namespace WsiSegment.Processor.Cli;

/// <summary>
/// Long-running slide commands run with one glibc malloc arena (MALLOC_ARENA_MAX=1). The allocator is tuned never
/// to give memory back (see TorchRuntime.TuneAllocator), so with an arena per thread — libvips workers, the mask
/// writers, libtorch — every arena keeps its own high-water mark, and peak RSS grows with the arena count at the
/// same speed (README, "Why it is built this way").
/// glibc fixes the arena count when the process starts (.NET has made its arenas before Main), so the process
/// re-executes itself once with the variable set; MALLOC_ARENA_MAX given by the user is left alone.
/// </summary>
internal static class SingleArenaRelaunch
{
    private const string Variable = "MALLOC_ARENA_MAX";
    private static readonly string[] Commands = ["segment", "watch"];

    /// <summary>Replaces the process with itself under MALLOC_ARENA_MAX=1 when that helps; returns if it does not
    /// (other commands, not Linux, variable already set, or exec failed: then it just runs as it is).</summary>
    public static void IfNeeded(string[] args)
    {
        if (!OperatingSystem.IsLinux() || args.Length == 0 || !Commands.Contains(args[0])) return;
        if (Environment.GetEnvironmentVariable(Variable) is not null) return;
        string[] argv;
        try
        {
            // The exact original argv (apphost or `dotnet wsi-segment.dll …`), NUL-separated.
            argv = Encoding.UTF8.GetString(File.ReadAllBytes("/proc/self/cmdline")).TrimEnd('\0').Split('\0');
        }
        catch (IOException)
        {
            return;
        }
        if (argv.Length == 0) return;
        // The real path, not /proc/self/exe, so that ps and top still show the program's name.
        string? self = Environment.ProcessPath;
        if (self is null || setenv(Variable, "1", 1) != 0) return;
        RemoveDiagnosticsSocket();
        execv(self, [.. argv, null]);
        // Only reached when exec failed: carry on in this process (the variable is set but inert here).
    }

    /// <summary>The runtime's diagnostics socket (TMPDIR/dotnet-diagnostic-PID-KEY-socket) is removed at a normal exit,
    /// which exec skips: without this every segment run would leave one behind in the temporary folder.</summary>
    private static void RemoveDiagnosticsSocket()
    {
        try
        {
            foreach (var socket in Directory.EnumerateFiles(Path.GetTempPath(), $"dotnet-diagnostic-{Environment.ProcessId}-*-socket"))
                File.Delete(socket);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    // DllImport, not LibraryImport: this project compiles without unsafe code; strings marshal as UTF-8 on Unix.
    [DllImport("libc")]
    private static extern int setenv(string name, string value, int overwrite);

    [DllImport("libc")]
    private static extern int execv(string path, string?[] argv);
}
