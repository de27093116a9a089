using System.Globalization;

namespace WsiSegment.Processor.Watch;

/// <summary>
/// Who a process is on this host, robust against pid reuse: host name, boot id, pid and the process's start time
/// (clock ticks since boot, /proc/PID/stat field 22). Used to tell a dead claim owner on this host from a live one.
/// </summary>
public sealed record ProcessIdentity(string Host, string BootId, int Pid, long StartTicks)
{
    public static readonly ProcessIdentity Current = new(Environment.MachineName, ReadBootId(), Environment.ProcessId, StartTicksOf(Environment.ProcessId) ?? 0);

    /// <summary>
    /// Whether the process this identity names is certainly gone: same host, and the boot changed, the pid is absent,
    /// a zombie, or now belongs to a process started at another time. On another host we cannot tell (false).
    /// </summary>
    public bool IsDeadOnThisHost()
    {
        if (!string.Equals(Host, Current.Host, StringComparison.Ordinal)) return false;
        if (BootId.Length > 0 && Current.BootId.Length > 0 && BootId != Current.BootId) return true;
        var stat = ReadStat(Pid);
        if (stat is null) return true;
        if (stat.Value.State is 'Z' or 'X') return true;
        return StartTicks != 0 && stat.Value.StartTicks != StartTicks;
    }

    public static long? StartTicksOf(int pid) => ReadStat(pid)?.StartTicks;

    /// <summary>Whether a process with this pid exists on this host and has not exited (a zombie has).</summary>
    public static bool IsRunning(int pid) => ReadStat(pid) is { State: not ('Z' or 'X') };

    private static (char State, long StartTicks)? ReadStat(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) is in parentheses and may contain spaces: parse after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
            return (fields[0][0], long.Parse(fields[19], CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    private static string ReadBootId()
    {
        try { return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }
}
