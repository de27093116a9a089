using NetVips;

namespace WsiSegment.Tiling.Slides;

/// <summary>Process-wide libvips set-up: checks the system library is there and bounds its caches.</summary>
public static class VipsSetup
{
    private static readonly Lazy<bool> Initialised = new(() =>
    {
        if (!ModuleInitializer.VipsInitialized)
            throw new InvalidOperationException(
                "libvips could not be loaded: " + (ModuleInitializer.Exception?.Message ?? "unknown reason") +
                ". Install it with: apt-get install libvips42 (Debian/Ubuntu)");
        // Operation cache off: we stream huge images once; cached regions would only hold memory.
        Cache.Max = 0;
        Cache.MaxFiles = 0;
        Cache.MaxMem = 0;
        // libvips warns on stderr through GLib (e.g. "error in tile 0 x 0"); route that to our log instead.
        _logHandlerId = NetVips.Log.SetLogHandler("VIPS", Enums.LogLevelFlags.Warning | Enums.LogLevelFlags.Message | Enums.LogLevelFlags.Info,
            (domain, level, message) => Warning?.Invoke(message ?? ""));
        return true;
    });

    private static uint _logHandlerId;

    /// <summary>Receives libvips' warnings (set by the host to forward them to its logger at debug level).</summary>
    public static Action<string>? Warning { get; set; }

    public static void EnsureInitialised() => _ = Initialised.Value;

    public static string Version => NetVips.NetVips.Version(0) + "." + NetVips.NetVips.Version(1) + "." + NetVips.NetVips.Version(2);

    /// <summary>libvips error text on one line, without the trailing newline and repeated lines.</summary>
    public static string Clean(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !l.StartsWith("unable to write to memory", StringComparison.Ordinal))
            .Distinct()
            .ToArray();
        return string.Join("; ", lines);
    }
}
