using WsiSegment.Stitching.Output;
using System.Text.Json;
using WsiSegment.Processor.Cli;

namespace WsiSegment.Processor.Watch;

/// <summary>One attempt on a slide that ended with the working process dead (a native crash, a kill).</summary>
public sealed record CrashedAttempt(string Host, int Pid, DateTimeOffset StartedUtc, string Stage, string How);

/// <summary>
/// How often each slide has taken its worker down with it: INBOX/.claims/SLIDE.crashes.json, outliving the claims
/// (a crashed worker's claim is taken back and deleted). Without it a slide that aborts the process natively would be
/// taken again after every restart, for ever; after <see cref="WatchOptions.MaxCrashes"/> it goes to failed/.
/// Shared by all workers like the claims; written only by the one holding (or taking back) the slide's claim.
/// </summary>
public sealed class CrashLedger(string claimsDir)
{
    private const string Suffix = ".crashes.json";

    public string PathOf(string slide) => Path.Combine(claimsDir, slide + Suffix);

    public IReadOnlyList<CrashedAttempt> Read(string slide)
    {
        try
        {
            using var s = File.OpenRead(PathOf(slide));
            return JsonSerializer.Deserialize<List<CrashedAttempt>>(s, JsonOutput.Options) ?? [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException) { return []; }
    }

    /// <summary>Adds a crash; returns all crashes of the slide so far.</summary>
    public IReadOnlyList<CrashedAttempt> Add(string slide, CrashedAttempt crash)
    {
        var all = Read(slide).Append(crash).ToList();
        Directory.CreateDirectory(claimsDir);
        AtomicFile.WriteAllText(PathOf(slide), JsonSerializer.Serialize(all, JsonOutput.Options));
        return all;
    }

    /// <summary>Forgets a slide's crashes once it has left the inbox (done, failed).</summary>
    public void Clear(string slide)
    {
        try { File.Delete(PathOf(slide)); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>The reason written to STEM.error.json for a slide that crashed its worker too often.</summary>
    public static string Describe(IReadOnlyList<CrashedAttempt> crashes)
    {
        var last = crashes[^1];
        return $"crashed the worker {crashes.Count} time(s); last: {last.How} during {last.Stage} (pid {last.Pid} on {last.Host}, started {last.StartedUtc:O})";
    }
}
