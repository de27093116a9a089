using WsiSegment.Processor.Watch;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Watch;

public class SlideSnifferTests
{
    [Fact]
    public void Tiled_tiff_and_bigtiff_pyramids_are_slides()
    {
        using var dir = new TempDir("sniff");
        TestSlides.WriteTiledTiff(dir.File("a.tif"));
        TestSlides.WriteTiledTiff(dir.File("b.tif"), bigTiff: true);
        Assert.Equal(SniffResult.Slide("tiff"), SlideSniffer.Sniff(dir.File("a.tif")));
        Assert.Equal(SniffResult.Slide("bigtiff"), SlideSniffer.Sniff(dir.File("b.tif")));
    }

    [Fact]
    public void Jpeg_and_png_are_slides_but_not_when_cut_short()
    {
        using var dir = new TempDir("sniff");
        TestSlides.WriteJpeg(dir.File("a.jpg"));
        TestSlides.WritePng(dir.File("a.png"));
        Assert.True(SlideSniffer.Sniff(dir.File("a.jpg")).IsSlide);
        Assert.True(SlideSniffer.Sniff(dir.File("a.png")).IsSlide);
        TestSlides.WriteTruncated(dir.File("a.jpg"), dir.File("cut.jpg"), 0.6);
        TestSlides.WriteTruncated(dir.File("a.png"), dir.File("cut.png"), 0.6);
        Assert.Contains("truncated JPEG", SlideSniffer.Sniff(dir.File("cut.jpg")).Reason);
        Assert.Contains("truncated PNG", SlideSniffer.Sniff(dir.File("cut.png")).Reason);
    }

    [Theory]
    [InlineData(0.95)]
    [InlineData(0.5)]
    [InlineData(0.1)]
    public void Truncated_tiff_is_recognised_as_bad(double fraction)
    {
        using var dir = new TempDir("sniff");
        TestSlides.WriteTiledTiff(dir.File("a.tif"));
        TestSlides.WriteTruncated(dir.File("a.tif"), dir.File("cut.tif"), fraction);
        var r = SlideSniffer.Sniff(dir.File("cut.tif"));
        Assert.False(r.IsSlide);
        Assert.Contains("TIFF", r.Reason);
    }

    [SharedFact]
    public void Real_svs_and_ndpi_are_slides_and_a_truncated_svs_is_not()
    {
        using var dir = new TempDir("sniff");
        Assert.True(SlideSniffer.Sniff(Path.Combine(Repo.SharedSlides, "CMU-1-Small-Region.svs")).IsSlide);
        Assert.True(SlideSniffer.Sniff(Path.Combine(Repo.SharedSlides, "test3-DAPI-2-_387_.ndpi")).IsSlide);
        Assert.True(SlideSniffer.Sniff(Path.Combine(Repo.SharedSlides, "small.svs")).IsSlide);
        Assert.False(SlideSniffer.Sniff(Path.Combine(Repo.SharedSlides, "broken.svs")).IsSlide);
        TestSlides.WriteTruncated(Path.Combine(Repo.SharedSlides, "CMU-1-Small-Region.svs"), dir.File("cut.svs"), 0.5);
        Assert.False(SlideSniffer.Sniff(dir.File("cut.svs")).IsSlide);
    }

    [Fact]
    public void Text_zero_byte_and_unknown_binary_are_not_slides_whatever_their_name()
    {
        using var dir = new TempDir("sniff");
        File.WriteAllText(dir.File("notes.svs"), "Patient notes, not a slide\n");
        File.WriteAllBytes(dir.File("empty.tif"), []);
        File.WriteAllBytes(dir.File("random.ndpi"), [0x00, 0x01, 0x02, 0x03, 0xFE, 0xFF, 0x10, 0x20, 0x30]);
        File.WriteAllBytes(dir.File("header-only.tif"), [(byte)'I', (byte)'I', 42, 0, 0x40, 0, 0, 0]);

        Assert.Equal("not a slide: a text file", SlideSniffer.Sniff(dir.File("notes.svs")).Reason);
        Assert.Equal("empty file (0 bytes)", SlideSniffer.Sniff(dir.File("empty.tif")).Reason);
        Assert.Contains("no TIFF, JPEG, PNG or MIRAX signature", SlideSniffer.Sniff(dir.File("random.ndpi")).Reason);
        Assert.Contains("outside the 8-byte file", SlideSniffer.Sniff(dir.File("header-only.tif")).Reason);
    }

    [Fact]
    public void Mirax_needs_its_index_header_and_data_folder()
    {
        using var dir = new TempDir("sniff");
        File.WriteAllText(dir.File("s.mrxs"), "[GENERAL]\nSLIDE_VERSION = 01.02\n");
        Assert.Contains("data folder missing", SlideSniffer.Sniff(dir.File("s.mrxs"), dir.File("s")).Reason);
        Directory.CreateDirectory(dir.File("s"));
        Assert.Contains("no Slidedat.ini", SlideSniffer.Sniff(dir.File("s.mrxs"), dir.File("s")).Reason);
        File.WriteAllText(Path.Combine(dir.File("s"), "Slidedat.ini"), "[GENERAL]\n");
        Assert.Equal(SniffResult.Slide("mirax"), SlideSniffer.Sniff(dir.File("s.mrxs"), dir.File("s")));
        File.WriteAllText(dir.File("t.mrxs"), "hello");
        Assert.False(SlideSniffer.Sniff(dir.File("t.mrxs"), dir.File("s")).IsSlide);
    }
}
