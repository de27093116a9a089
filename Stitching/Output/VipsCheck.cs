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

    /// <summary>
    /// A libvips failure while writing <paramref name="path"/>: an <see cref="OutputWriteException"/> when the file system
    /// refused (worth retrying), else an <see cref="OutputGeometryException"/> (e.g. "affine: output coordinates out of
    /// range"), which is a property of the input and would only fail again.
    /// </summary>
    public static Exception WriteError(string path, VipsException e)
    {
        string text = Clean(e.Message);
        bool io = text.Contains("unable to write", StringComparison.OrdinalIgnoreCase) || text.Contains("No space", StringComparison.OrdinalIgnoreCase)
            || text.Contains("Permission denied", StringComparison.OrdinalIgnoreCase) || text.Contains("unable to open", StringComparison.OrdinalIgnoreCase)
            || text.Contains("Input/output error", StringComparison.OrdinalIgnoreCase) || text.Contains("Disk quota", StringComparison.OrdinalIgnoreCase);
        return io ? new OutputWriteException(path, AtomicFile.WithFinalNames(text), e) : new OutputGeometryException($"cannot make {path}: {text}", e);
    }

    /// <summary>libvips error text on one line.</summary>
    public static string Clean(string message) =>
        string.Join("; ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct());
}

/// <summary>An output could not be made from this input (its geometry, not the disc): permanent, never retried.</summary>
public sealed class OutputGeometryException(string message, Exception? inner = null) : Exception(message, inner);
