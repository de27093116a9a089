using WsiSegment.Processor.Segmentation;
using WsiSegment.Processor.Watch;
using WsiSegment.Stitching.Output;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Segmentation;

public class OutputStagingTests
{
    [Fact]
    public void An_error_about_a_staged_temporary_file_names_the_output_it_stands_for()
    {
        using var dir = new TempDir("staging");
        string outDir = dir.File("out");
        using var staging = new OutputStaging(new SlideOutputs(outDir, "slide"));
        // .NET's own message about the temporary name AtomicFile really writes under.
        var e = Assert.Throws<OutputWriteException>(() =>
            AtomicFile.Write(staging.Files.GeoJson, temp => throw new IOException($"No space left on device : '{temp}'")));
        Assert.Equal(staging.Files.GeoJson, e.Path);
        Assert.Equal("No space left on device", e.Reason);
        Assert.Empty(Directory.GetFiles(staging.StagingDir)); // the temporary file is gone

        Assert.True(staging.Holds(e.Path));
        var shown = staging.Publish(e);
        Assert.Equal(Path.Combine(outDir, "slide.geojson"), shown.Path);
        Assert.Equal(staging.Files.GeoJson, shown.StagedPath);
        Assert.Equal($"cannot write {Path.Combine(outDir, "slide.geojson")}: No space left on device", shown.Message);
        // Still an I/O failure: the watch retries it.
        Assert.Equal(FailureKind.Transient, FailureClassifier.Classify(shown));

        // A writer's own reason, naming a staged temporary file as libvips does.
        string temp = AtomicFile.TemporaryName(staging.Files.Mask);
        var vips = staging.Publish(new OutputWriteException(staging.Files.Mask, AtomicFile.WithFinalNames($"unable to write to target {temp}: disk full")));
        Assert.Equal($"cannot write {Path.Combine(outDir, "slide.mask.tif")}: unable to write to target {Path.Combine(outDir, "slide.mask.tif")}: disk full", vips.Message);

        var elsewhere = new OutputWriteException(Path.Combine(outDir, "slide.json"), "disk full");
        Assert.False(staging.Holds(elsewhere.Path));
        Assert.Same(elsewhere, staging.Publish(elsewhere));
    }

    [Fact]
    public void Slide_outputs_are_named_by_the_slide_stem()
    {
        var o = SlideOutputs.For("/in/a.b.svs", "/out");
        Assert.Equal("a.b", o.Stem);
        Assert.Equal("/out/a.b.mask.tif", o.Mask);
        Assert.Equal("/out/a.b.mask.ome.tif", o.OmeMask);
        Assert.Equal("/out/a.b.json", o.Report);
        Assert.Equal("/out/a.b.error.json", o.Error);
        Assert.Equal("x", SlideOutputs.StemOf("x.ome.tiff"));
        Assert.Equal("slide", SlideOutputs.StemOf(".ome.tif"));
        Assert.Equal("/stage/a.b.geojson", o.In("/stage").GeoJson);
        Assert.Equal(["mask", "omeMask", "overlay", "geojson", "thumbnail", "tissue"], o.Named().Select(n => n.Key));
    }
}
