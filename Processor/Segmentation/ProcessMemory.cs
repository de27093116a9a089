using System.Globalization;

namespace WsiSegment.Processor.Segmentation;

/// <summary>Resident memory of this process as the kernel counts it (Linux /proc), for reports and benchmarks.</summary>
public static class ProcessMemory
{
    /// <summary>Peak resident set size (VmHWM) in bytes; 0 where /proc is unavailable.</summary>
    public static long PeakRssBytes() => ReadStatusKb("VmHWM:") * 1024;

    private static long ReadStatusKb(string key)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith(key, StringComparison.Ordinal))
                    return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException) { }
        return 0;
    }
}
