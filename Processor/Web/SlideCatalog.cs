using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Segmentation;
using WsiSegment.Stitching.Output;

namespace WsiSegment.Processor.Web;

/// <summary>
/// Finds the segmented slides under the output folders: every SLIDE.json that is a segment report (written last,
/// so a slide still being written is not listed). Rescans at most every <see cref="MinRescan"/>; a report is parsed
/// again only when its size or mtime changed. Ids are a hash of the report's real path: opaque, stable.
/// </summary>
public sealed class SlideCatalog
{
    private static readonly TimeSpan MinRescan = TimeSpan.FromSeconds(2);
    private const long MaxReportBytes = 4 << 20;
    private static readonly JsonSerializerOptions ReadOptions = new(JsonOutput.Options) { PropertyNameCaseInsensitive = true };

    private readonly ServeOptions _options;
    private readonly RealPaths _paths;
    private readonly ILogger _log;
    private readonly object _gate = new();
    private readonly Dictionary<string, (long Size, DateTime Mtime, SegmentReport? Report)> _parsed = new();
    private IReadOnlyDictionary<string, SlideEntry> _byId = new Dictionary<string, SlideEntry>();
    private DateTime _scanned = DateTime.MinValue;

    public SlideCatalog(ServeOptions options, RealPaths paths, ILogger<SlideCatalog> log)
    {
        _options = options;
        _paths = paths;
        _log = log;
    }

    public IReadOnlyCollection<SlideEntry> All() => Current().Values.OrderByDescending(e => e.Report.Finished).ToList();

    public SlideEntry? Find(string id) => Current().GetValueOrDefault(id);

    private IReadOnlyDictionary<string, SlideEntry> Current()
    {
        lock (_gate)
        {
            if (DateTime.UtcNow - _scanned < MinRescan) return _byId;
            var found = new Dictionary<string, SlideEntry>();
            foreach (var dir in _options.OutDirs)
                foreach (var json in ReportCandidates(dir))
                    if (Load(json) is { } entry)
                        found[entry.Id] = entry;
            // Forget reports that went away (the parse cache would otherwise grow with every file ever seen).
            var live = found.Values.Select(e => e.ReportPath).ToHashSet();
            foreach (var gone in _parsed.Keys.Where(k => !live.Contains(k) && !File.Exists(k)).ToList()) _parsed.Remove(gone);
            _byId = found;
            _scanned = DateTime.UtcNow;
            return _byId;
        }
    }

    /// <summary>*.json files a few folders deep, skipping hidden folders (segment's staging) and symlinked folders.</summary>
    private static IEnumerable<string> ReportCandidates(string dir)
    {
        var opts = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            MaxRecursionDepth = 3,
            AttributesToSkip = FileAttributes.Hidden | FileAttributes.ReparsePoint | FileAttributes.System,
            IgnoreInaccessible = true,
        };
        return Directory.EnumerateFiles(dir, "*.json", opts)
            .Where(f => !f.EndsWith(SlideOutputs.ErrorSuffix, StringComparison.Ordinal) && !Path.GetFileName(f).StartsWith('.'));
    }

    private SlideEntry? Load(string json)
    {
        string? real = _paths.Resolve(json);
        if (real is null) return null;
        var info = new FileInfo(real);
        if (info.Length > MaxReportBytes) return null;
        if (!_parsed.TryGetValue(real, out var cached) || cached.Size != info.Length || cached.Mtime != info.LastWriteTimeUtc)
        {
            cached = (info.Length, info.LastWriteTimeUtc, Parse(real));
            _parsed[real] = cached;
        }
        return cached.Report is { } report ? Entry(real, info, report) : null;
    }

    private SegmentReport? Parse(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            var report = JsonSerializer.Deserialize<SegmentReport>(stream, ReadOptions);
            return report?.Classes is { Count: > 0 } && report.Outputs.ContainsKey("mask") ? report : null;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            // status.json, summary files and half-written reports are not slides; say why at debug level only.
            _log.LogDebug("Not a segment report: {File} ({Reason})", path, e.Message);
            return null;
        }
    }

    private SlideEntry Entry(string reportPath, FileInfo reportInfo, SegmentReport report)
    {
        string dir = Path.GetDirectoryName(reportPath)!;
        var files = new Dictionary<string, string>(StringComparer.Ordinal) { ["report"] = reportPath };
        foreach (var (key, file) in report.Outputs)
            if (_paths.Resolve(Path.Combine(dir, file)) is { } real)
                files[key] = real;
        string? slide = FindSlide(report);
        string name = Path.GetFileName(reportPath)[..^SlideOutputs.ReportSuffix.Length];
        var version = new StringBuilder();
        foreach (var f in new[] { reportPath, slide, files.GetValueOrDefault("mask") })
            if (f is not null) { var i = new FileInfo(f); version.Append(f).Append(i.Length).Append(i.LastWriteTimeUtc.Ticks); }
        return new SlideEntry(Hash(reportPath), name, reportPath, report, slide, files.GetValueOrDefault("mask"), files,
            Hash(version.ToString())[..12], reportInfo.LastWriteTimeUtc);
    }

    /// <summary>The source slide: the report's path when it lies in a served folder, else a file of that name and size in one of them.</summary>
    private string? FindSlide(SegmentReport report)
    {
        if (_paths.Resolve(report.Slide.Path) is { } direct) return direct;
        string file = Path.GetFileName(report.Slide.Path);
        foreach (var dir in _options.SlideDirs.Concat(_options.OutDirs))
            if (_paths.Resolve(Path.Combine(dir, file)) is { } candidate && new FileInfo(candidate).Length == report.Slide.FileBytes)
                return candidate;
        return null;
    }

    private static string Hash(string s) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(s)))[..16];
}
