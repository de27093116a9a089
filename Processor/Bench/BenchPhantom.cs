using System.Globalization;
using Microsoft.Extensions.Logging;
using WsiSegment.Tiling.Phantoms;

namespace WsiSegment.Processor.Bench;

/// <summary>The all-tissue phantoms the benchmarks segment: generated once per size and MPP under a work folder, reused after.</summary>
public static class BenchPhantom
{
    public static PhantomFiles Ensure(string workDir, int width, int height, double mpp, ILogger log, CancellationToken ct)
    {
        string size = $"{width}x{height}";
        string slideDir = Path.Combine(workDir, string.Create(CultureInfo.InvariantCulture, $"{size}-{mpp}um"));
        var options = new PhantomOptions { Width = width, Height = height, Seed = 11, TissueFraction = 1.0, Mpp = mpp };
        if (PhantomFiles.For(slideDir, options.Seed) is { Exist: true } found)
        {
            log.LogInformation("Reusing the {Size} phantom in {Dir}", size, slideDir);
            return found;
        }
        log.LogInformation("Generating an all-tissue {Size} phantom at {Mpp} µm/px", size, mpp);
        return PhantomWriter.Write(options, slideDir, null, ct);
    }

    /// <summary>
    /// A phantom of <paramref name="width"/>×<paramref name="height"/>: where that is a whole multiple of the base
    /// phantom's size, the base repeated (for memory-scaling runs, where only the size matters, and procedural
    /// generation of billions of pixels would take most of an hour); otherwise generated like any other.
    /// </summary>
    public static PhantomFiles EnsureScaled(string workDir, (int Width, int Height) baseSize, int width, int height, double mpp, ILogger log, CancellationToken ct)
    {
        if (width % baseSize.Width != 0 || height % baseSize.Height != 0 || (width, height) == baseSize)
            return Ensure(workDir, width, height, mpp, log, ct);
        var source = Ensure(workDir, baseSize.Width, baseSize.Height, mpp, log, ct);
        string slideDir = Path.Combine(workDir, string.Create(CultureInfo.InvariantCulture, $"{width}x{height}-{mpp}um-mosaic"));
        if (source.In(slideDir) is { Exist: true } found)
        {
            log.LogInformation("Reusing the {Width}x{Height} mosaic phantom in {Dir}", width, height, slideDir);
            return found;
        }
        int across = width / baseSize.Width, down = height / baseSize.Height;
        log.LogInformation("Writing a {Width}x{Height} phantom as the {Base} one repeated {Across}×{Down}", width, height, $"{baseSize.Width}x{baseSize.Height}", across, down);
        return PhantomWriter.WriteMosaic(source, across, down, mpp, slideDir, null, ct);
    }
}
