using System.Globalization;
using Microsoft.Extensions.Logging;

namespace WsiSegment.Processor.Cluster;

/// <summary>
/// A task killed mid-slide (SIGKILL, node loss) leaves its hidden staging folder (.staging-STEM-PID-GUID) behind:
/// never a file that looks finished, but disk space. The next task for that slide removes those whose process is
/// gone from this host. A live process of that pid here (or one on another node) keeps its folder.
/// </summary>
public static class StagingLeftovers
{
    public static void RemoveAbandoned(string outDir, string stem, ILogger log)
    {
        if (!Directory.Exists(outDir)) return;
        string s = stem.Length > 100 ? stem[..100] : stem;
        string prefix = $".staging-{s}-";
        foreach (var dir in Directory.EnumerateDirectories(outDir, prefix + "*"))
        {
            string rest = Path.GetFileName(dir)[prefix.Length..];
            int dash = rest.IndexOf('-');
            if (dash <= 0 || !int.TryParse(rest[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) continue;
            if (pid == Environment.ProcessId || Directory.Exists($"/proc/{pid}")) continue;
            try
            {
                Directory.Delete(dir, recursive: true);
                log.LogInformation("Removed {Dir}, left by a task that was killed (pid {Pid})", dir, pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.LogWarning("Could not remove {Dir}: {Reason}", dir, e.Message);
            }
        }
    }
}
