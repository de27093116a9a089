using NetVips;

namespace WsiSegment.Tiling.Slides;

/// <summary>Process-wide libvips set-up: checks the system library is there, allows only the loaders we read slides
/// with, bounds its caches and says explicitly where whole-image decodes go (memory or a temporary file).</summary>
public static class VipsSetup
{
    private static readonly Lazy<bool> Initialised = new(() =>
    {
        if (!ModuleInitializer.VipsInitialized)
            throw new InvalidOperationException(
                "libvips could not be loaded: " + (ModuleInitializer.Exception?.Message ?? "unknown reason") +
                ". Install it with: apt-get install libvips42 (Debian/Ubuntu)");
        LoadersAllowed();
        DiscThresholdSet();
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

    /// <summary>
    /// The libvips loaders a slide may reach. libvips picks a loader by sniffing content, so a malformed TIFF or a
    /// renamed file would otherwise fall through to ImageMagick, Radiance, FITS, PDF, SVG, matrix, CSV… (fuzzing
    /// targets we never meant to expose). OpenSlide is flagged untrusted in libvips 8.14 but is what we read slides
    /// with; raw is only ever called by name on our own label spool (it has no content sniffing).
    /// </summary>
    public static readonly IReadOnlyList<string> AllowedLoaders =
        ["VipsForeignLoadTiff", "VipsForeignLoadJpeg", "VipsForeignLoadPng", "VipsForeignLoadOpenslide", "VipsForeignLoadRaw"];

    /// <summary>Whole-image decodes (JPEG, PNG, strip TIFF in random access) up to this size go to memory, larger
    /// ones to a temporary file; <see cref="SlideLimits.MaxWholeDecodeBytes"/> refuses anything bigger before it is
    /// decoded, so libvips' temporary files stay within that limit.</summary>
    public const long DiscThresholdBytes = 256L << 20;

    private static void LoadersAllowed()
    {
        NetVips.NetVips.BlockUntrusted = true;
        Operation.Block("VipsForeignLoad", true);
        foreach (var loader in AllowedLoaders) Operation.Block(loader, false);
    }

    private static void DiscThresholdSet()
    {
        // libvips reads VIPS_DISC_THRESHOLD once, at its first whole-image decode; a value the user set is kept.
        // (Environment.SetEnvironmentVariable would not reach native getenv on Unix.)
        if (OperatingSystem.IsWindows() || Environment.GetEnvironmentVariable("VIPS_DISC_THRESHOLD") is { Length: > 0 }) return;
        _ = setenv("VIPS_DISC_THRESHOLD", (DiscThresholdBytes >> 20) + "m", 0);
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern int setenv([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string name,
        [System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string value, int overwrite);

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
