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
        var files = new PhantomFiles(Path.Combine(slideDir, $"phantom-{options.Seed}.tif"), Path.Combine(slideDir, $"phantom-{options.Seed}.labels.tif"));
        // Phantoms are renamed into place only when complete, so one found from an earlier run is whole.
        if (File.Exists(files.Slide) && File.Exists(files.Labels))
        {
            log.LogInformation("Reusing the {Size} phantom in {Dir}", size, slideDir);
            return files;
        }
        log.LogInformation("Generating an all-tissue {Size} phantom at {Mpp} µm/px", size, mpp);
        return PhantomWriter.Write(options, slideDir, null, ct);
    }
}
