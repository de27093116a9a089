using System.Net;

namespace WsiSegment.Processor.Web;

/// <summary>What `serve` (or `watch --serve`) shows and where it listens. Validated once, at start.</summary>
public sealed record ServeOptions
{
    /// <summary>Folders searched for SLIDE.json reports (and whose outputs may be downloaded).</summary>
    public required IReadOnlyList<string> OutDirs { get; init; }

    /// <summary>Further folders that may hold the source slides (the report's own path is used when it lies under a served folder).</summary>
    public IReadOnlyList<string> SlideDirs { get; init; } = [];

    public string Urls { get; init; } = "http://127.0.0.1:8080";

    /// <summary>File holding the access token; required when binding to anything but loopback (slides are patient data).</summary>
    public string? TokenFile { get; init; }

    /// <summary>Bytes of encoded tiles kept in memory.</summary>
    public long TileCacheBytes { get; init; } = 128L << 20;

    /// <summary>Source slides and masks kept open at once (each holds libvips handles).</summary>
    public int OpenSlides { get; init; } = 8;

    /// <summary>The watch service's status file and failed folder, when the view runs inside it.</summary>
    public string? StatusFile { get; init; }
    public string? FailedDir { get; init; }

    /// <summary>Checks every setting and returns the token (null when none), or throws naming the setting and the reason.</summary>
    public string? Validate()
    {
        if (OutDirs.Count == 0) throw new ArgumentException("serve: give at least one OUTDIR");
        foreach (var d in OutDirs.Concat(SlideDirs))
            if (!Directory.Exists(d)) throw new ArgumentException($"{d}: not a folder");
        if (TileCacheBytes < 0 || OpenSlides < 1) throw new ArgumentException("serve: cache sizes must be positive");
        bool loopbackOnly = true;
        foreach (var url in Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0"), UriKind.Absolute, out var uri) || uri.Scheme != "http")
                throw new ArgumentException($"--urls {url}: expected http://HOST:PORT");
            loopbackOnly &= IsLoopback(uri.Host);
        }
        string? token = null;
        if (TokenFile is not null)
        {
            if (!File.Exists(TokenFile)) throw new ArgumentException($"{TokenFile}: token file not found");
            token = File.ReadAllText(TokenFile).Trim();
            if (token.Length < 16) throw new ArgumentException($"{TokenFile}: the token must be at least 16 characters");
        }
        if (!loopbackOnly && token is null)
            throw new ArgumentException($"--urls {Urls} listens beyond this machine: give --token-file F (slides are patient data), or bind 127.0.0.1 and use an SSH port forward");
        return token;
    }

    private static bool IsLoopback(string host) =>
        host == "localhost" || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}
