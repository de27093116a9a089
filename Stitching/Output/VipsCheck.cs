using NetVips;

namespace WsiSegment.Stitching.Output;

/// <summary>Stitching's own check that libvips loaded (it does not reference Tiling's set-up).</summary>
internal static class VipsCheck
{
    public static void Ensure()
    {
        if (!ModuleInitializer.VipsInitialized)
            throw new InvalidOperationException("libvips could not be loaded: " + (ModuleInitializer.Exception?.Message ?? "unknown reason") +
                                                ". Install it with: apt-get install libvips42 (Debian/Ubuntu)");
    }

    /// <summary>True when libvips knows tiffsave's `keep` (8.15+); older versions take `strip`.</summary>
    public static bool HasKeep => NetVips.NetVips.AtLeastLibvips(8, 15);

    /// <summary>libvips error text on one line.</summary>
    public static string Clean(string message) =>
        string.Join("; ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct());
}
