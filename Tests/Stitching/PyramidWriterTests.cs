using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using NetVips;
using WsiSegment.Stitching.Output;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Stitching;

public class PyramidWriterTests
{
    private const int W = 1500, H = 1100;
    private static readonly MaskOutputOptions Options = new() { Mpp = 2.0, Classes = TestLabels.Classes };

    private static string[] Directories(string tiffinfoOutput) =>
        Regex.Split(tiffinfoOutput, @"^=== TIFF directory \d+ ===$", RegexOptions.Multiline).Skip(1).ToArray();

    private static byte[] Pixels(Image image) => image.WriteToMemory<byte>();

    [Fact]
    public void Mask_tif_is_a_tiled_lossless_page_pyramid_that_openslide_reads_with_its_mpp()
    {
        using var dir = new TempDir("pyr");
        using var spool = TestLabels.Spool(dir.File("l.u8"), W, H);
        var files = new PyramidWriter().Write(spool, dir.File("slide"), Options with { Outputs = MaskOutputs.Mask });
        Assert.Equal(dir.File("slide.mask.tif"), files.Mask);
        Assert.Null(files.Overlay);
        Assert.Single(Directory.GetFiles(dir.Path, "slide*")); // no temporary left over

        var info = Tool.Run(Tool.Require("tiffinfo", "libtiff-tools"), [files.Mask!]);
        var dirs = Directories(info.Stdout + info.Stderr);
        Assert.Equal(3, dirs.Length); // 1500×1100 → 750×550 → 375×275 (fits one tile)
        for (int i = 0; i < dirs.Length; i++)
        {
            Assert.Contains("Tile Width: 512 Tile Length: 512", dirs[i]);
            Assert.Contains("Compression Scheme: AdobeDeflate", dirs[i]);
            Assert.Contains("Predictor: horizontal differencing", dirs[i]);
            Assert.Contains("Resolution: 5000, 5000 pixels/cm", dirs[i]);
            Assert.DoesNotContain("ImageDescription", dirs[i]);
            Assert.DoesNotContain("Image Description", dirs[i]);
            Assert.Equal(i > 0, dirs[i].Contains("Subfile Type: reduced-resolution image (1 = 0x1)"));
        }
        Assert.Contains("<ClassicTIFF>", Tool.Run("tiffdump", [files.Mask!]).Stdout);

        var props = OpenSlideProperties.Read(files.Mask!);
        Assert.Equal("generic-tiff", props["openslide.vendor"]);
        Assert.Equal(3, props.LevelCount);
        Assert.Equal(750, props.Number("openslide.level[1].width"));
        Assert.Equal("centimeter", props["tiff.ResolutionUnit"]);
        Assert.Equal(2.0, 10_000 / props.Number("tiff.XResolution")!.Value, 9); // µm per pixel = 10⁴ / (px per cm)
        Assert.Equal(2.0, 10_000 / props.Number("tiff.YResolution")!.Value, 9);

        using (var level0 = Image.Tiffload(files.Mask!, page: 0))
            Assert.Equal(TestLabels.Image(W, H), Pixels(level0));
        for (int page = 1; page < 3; page++)
        {
            using var level = Image.Tiffload(files.Mask!, page: page);
            var pixels = Pixels(level);
            Assert.All(pixels.Distinct(), v => Assert.Contains(v, TestLabels.Present)); // mode: no averaged labels
            int d = 1 << page;
            // Block centres are not shifted: reduced pixel (x, y) covers level-0 pixel (x·d, y·d).
            foreach (var (x, y) in new[] { (75, 75), (225, 75), (75, 225), (1425, 1025) })
                Assert.Equal(TestLabels.At(x, y), pixels[y / d * level.Width + x / d]);
        }
    }

    [Fact]
    public void Ome_tif_has_ome_xml_with_the_physical_size_and_the_pyramid_in_subifds()
    {
        using var dir = new TempDir("pyr");
        using var spool = TestLabels.Spool(dir.File("l.u8"), W, H);
        var files = new PyramidWriter().Write(spool, dir.File("slide"), Options with { Outputs = MaskOutputs.OmeMask });

        var description = Tool.Run(Tool.Require("vipsheader", "libvips-tools"), ["-f", "image-description", files.OmeMask!]).Stdout;
        var xml = XDocument.Parse(description.Trim());
        var pixels = xml.Descendants(OmeXml.Ns + "Pixels").Single();
        Assert.Equal("2", pixels.Attribute("PhysicalSizeX")!.Value);
        Assert.Equal("µm", pixels.Attribute("PhysicalSizeXUnit")!.Value);
        Assert.Equal("uint8", pixels.Attribute("Type")!.Value);
        Assert.Equal("1", pixels.Attribute("SizeC")!.Value);
        Assert.Equal(W.ToString(CultureInfo.InvariantCulture), pixels.Attribute("SizeX")!.Value);
        Assert.Contains("Necrosis", xml.Descendants(OmeXml.Ns + "M").Select(m => m.Value));

        var dump = Tool.Run(Tool.Require("tiffdump", "libtiff-tools"), [files.OmeMask!]).Stdout;
        Assert.Contains("SubIFD (330)", dump);
        var info = Tool.Run("tiffinfo", [files.OmeMask!]);
        Assert.Single(Directories(info.Stdout + info.Stderr)); // reduced levels are not in the main chain

        using (var level0 = Image.Tiffload(files.OmeMask!))
            Assert.Equal(TestLabels.Image(W, H), Pixels(level0));
        using var reduced = Image.Tiffload(files.OmeMask!, subifd: 0);
        Assert.Equal(750, reduced.Width);
        Assert.All(Pixels(reduced).Distinct(), v => Assert.Contains(v, TestLabels.Present));
    }

    [Theory]
    [InlineData(OverlayCompression.Deflate, 0, "AdobeDeflate")]
    [InlineData(OverlayCompression.Jpeg, 12, "JPEG")]
    public void Overlay_colours_are_the_class_colours(OverlayCompression compression, int tolerance, string scheme)
    {
        using var dir = new TempDir("pyr");
        using var spool = TestLabels.Spool(dir.File("l.u8"), W, H);
        var files = new PyramidWriter().Write(spool, dir.File("slide"),
            Options with { Outputs = MaskOutputs.Overlay, OverlayCompression = compression });

        var info = Tool.Run("tiffinfo", [files.Overlay!]);
        var dirs = Directories(info.Stdout + info.Stderr);
        Assert.Equal(3, dirs.Length);
        Assert.All(dirs, d => Assert.Contains("Compression Scheme: " + scheme, d));
        Assert.All(dirs.Skip(1), d => Assert.Contains("Subfile Type: reduced-resolution image", d));
        Assert.Equal(3, OpenSlideProperties.Read(files.Overlay!).LevelCount);

        using var rgb = Image.Tiffload(files.Overlay!);
        Assert.Equal(3, rgb.Bands);
        var px = Pixels(rgb);
        // Block centres (JPEG is exact enough there); with deflate, every pixel.
        var points = tolerance == 0
            ? Enumerable.Range(0, W * H).Select(i => (X: i % W, Y: i / W))
            : new[] { (75, 75), (225, 75), (375, 75), (75, 225), (1425, 1025) }.Select(p => (X: p.Item1, Y: p.Item2));
        foreach (var (x, y) in points)
        {
            var c = TestLabels.Classes[TestLabels.At(x, y)].Color;
            int i = (y * W + x) * 3;
            Assert.InRange(px[i], c.R - tolerance, c.R + tolerance);
            Assert.InRange(px[i + 1], c.G - tolerance, c.G + tolerance);
            Assert.InRange(px[i + 2], c.B - tolerance, c.B + tolerance);
        }
    }

    [Theory]
    [InlineData(1203, 777, 256)] // odd sizes: each level rounds down, the last band of a level is short
    [InlineData(3000, 40, 128)]  // a strip: the height runs out first
    [InlineData(16, 16, 512)]    // smaller than one tile: a single level
    public void Every_reduced_pixel_is_a_mode_of_the_two_by_two_block_above_it(int width, int height, int tile)
    {
        using var dir = new TempDir("pyr");
        // Noisy labels with every class, so ties and three-way splits occur often.
        var random = new Random(width * 7 + height);
        var labels = new byte[width * height];
        for (int i = 0; i < labels.Length; i++) labels[i] = (byte)(random.Next(3) == 0 ? random.Next(8) : (i % width) * 8 / width);
        File.WriteAllBytes(dir.File("l.u8"), labels);
        var files = new PyramidWriter().Write(dir.File("l.u8"), width, height, dir.File("slide"),
            Options with { Outputs = MaskOutputs.Mask | MaskOutputs.OmeMask, TileSize = tile });

        var above = labels;
        int aboveWidth = width, aboveHeight = height;
        int pages = OpenSlideProperties.Read(files.Mask!).LevelCount;
        Assert.Equal(Math.Max(1, (int)Math.Ceiling(Math.Log2(Math.Max(width, height) / (double)tile)) + 1), pages);
        for (int page = 0; page < pages; page++)
        {
            using var level = Image.Tiffload(files.Mask!, page: page);
            using var sub = page == 0 ? Image.Tiffload(files.OmeMask!) : Image.Tiffload(files.OmeMask!, subifd: page - 1);
            var pixels = Pixels(level);
            Assert.Equal(pixels, Pixels(sub)); // both files hold the same tiles
            if (page == 0) { Assert.Equal(labels, pixels); continue; }
            Assert.Equal((aboveWidth / 2, aboveHeight / 2), (level.Width, level.Height));
            for (int y = 0; y < level.Height; y++)
            for (int x = 0; x < level.Width; x++)
            {
                var block = new[] { above[2 * y * aboveWidth + 2 * x], above[2 * y * aboveWidth + 2 * x + 1],
                                    above[(2 * y + 1) * aboveWidth + 2 * x], above[(2 * y + 1) * aboveWidth + 2 * x + 1] };
                int best = block.Max(v => block.Count(b => b == v));
                byte got = pixels[y * level.Width + x];
                Assert.True(block.Count(b => b == got) == best, $"page {page} ({x}, {y}): {got} is not a mode of [{string.Join(", ", block)}]");
            }
            (above, aboveWidth, aboveHeight) = (pixels, level.Width, level.Height);
        }
        var info = Tool.Run("tiffinfo", [files.OmeMask!]);
        Assert.DoesNotContain("Warning", info.Stderr);
        if (pages > 1) Assert.Contains($"SubIFD 0 of chain {pages - 2}", info.Stdout); // each SubIFD its own chain, as libvips writes them
    }

    [Fact]
    public void BigTiff_can_be_forced_and_openslide_still_reads_it()
    {
        using var dir = new TempDir("pyr");
        using var spool = TestLabels.Spool(dir.File("l.u8"), W, H);
        var files = new PyramidWriter().Write(spool, dir.File("slide"), Options with { Outputs = MaskOutputs.Mask, BigTiff = true });
        Assert.Contains("<BigTIFF>", Tool.Run("tiffdump", [files.Mask!]).Stdout);
        Assert.Equal(3, OpenSlideProperties.Read(files.Mask!).LevelCount);
    }

    [Fact]
    public void A_failed_write_names_the_file_and_leaves_nothing_behind()
    {
        using var dir = new TempDir("pyr");
        using var spool = TestLabels.Spool(dir.File("l.u8"), W, H);
        string stem = Path.Combine(dir.Path, "missing-dir", "slide");
        var e = Assert.ThrowsAny<IOException>(() => new PyramidWriter().Write(spool, stem, Options));
        Assert.Contains("slide.mask.tif", e.Message);
        Assert.Equal(["l.u8"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));

        // A spool of the wrong size is refused before anything is written.
        Assert.Contains("l.u8", Assert.Throws<IOException>(() =>
            new PyramidWriter().Write(spool.Path, W, H + 1, dir.File("x"), Options)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PyramidWriter().Write(spool, dir.File("x"), Options with { Mpp = 0 }));
    }
}

public class PyramidWriterCancellationTests
{
    [Fact]
    public void A_cancelled_write_throws_and_leaves_nothing_behind()
    {
        using var dir = new TempDir("pyr");
        using var spool = TestLabels.Spool(dir.File("l.u8"), 1500, 1100);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => new PyramidWriter().Write(spool, dir.File("slide"),
            new MaskOutputOptions { Mpp = 1, Classes = TestLabels.Classes }, cts.Token));
        Assert.Equal(["l.u8"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }
}
