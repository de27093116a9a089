using WsiSegment.Processor.Segmentation;
using WsiSegment.Stitching.Output;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor;

public class OutputStagingTests
{
    [Fact]
    public void An_error_about_a_staged_temporary_file_names_the_output_it_stands_for()
    {
        using var dir = new TempDir("staging");
        string outDir = dir.File("out");
        using var staging = new OutputStaging(outDir, "slide");
        // The name AtomicFile really writes under, so the test follows it if that changes.
        string temp = AtomicFile.TemporaryName(staging.Staged("slide.geojson"));
        string message = $"No space left on device : '{temp}'";

        Assert.True(staging.Names(message));
        Assert.Equal($"No space left on device : '{Path.Combine(outDir, "slide.geojson")}'", staging.Publicly(message));
        Assert.Equal($"cannot write {Path.Combine(outDir, "slide.mask.tif")}: disk full",
            staging.Publicly($"cannot write {staging.Staged("slide.mask.tif")}: disk full"));
        Assert.False(staging.Names($"{outDir}: output directory cannot be written"));
    }
}
