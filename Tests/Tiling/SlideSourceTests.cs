using NetVips;
using WsiSegment.Tests.Support;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Tests.Tiling;

public class SlideSourceTests
{
    public static TheoryData<string> ValidSharedSlides => new()
    {
        "CMU-1-Small-Region.svs", "test3-DAPI-2-_387_.ndpi", "boxes.tiff", "small.svs",
    };

    [SharedTheory]
    [MemberData(nameof(ValidSharedSlides))]
    public void Levels_and_mpp_match_openslide_show_properties(string name)
    {
        string path = Path.Combine(Repo.SharedSlides, name);
        var truth = OpenSlideProperties.Read(path);
        using var slide = SlideSource.Open(path);
        slide.Verify();

        Assert.Equal("openslide", slide.Info.Reader);
        Assert.Equal(truth["openslide.vendor"], slide.Info.Format);
        Assert.Equal(truth.LevelCount, slide.Levels.Count);
        for (int i = 0; i < truth.LevelCount; i++)
        {
            Assert.Equal(truth.Number($"openslide.level[{i}].width"), slide.Levels[i].Width);
            Assert.Equal(truth.Number($"openslide.level[{i}].height"), slide.Levels[i].Height);
            Assert.Equal(truth.Number($"openslide.level[{i}].downsample")!.Value, slide.Levels[i].Downsample, 6);
        }
        Assert.Equal(truth.Number("openslide.mpp-x"), slide.MppX);
        Assert.Equal(truth.Number("openslide.mpp-y"), slide.MppY);
        Assert.Equal(truth.Number("openslide.objective-power"), slide.Info.ObjectivePower);
    }

    [SharedFact]
    public void Region_pixels_are_the_slides_rgb_not_black()
    {
        using var slide = SlideSource.Open(Path.Combine(Repo.SharedSlides, "CMU-1-Small-Region.svs"));
        var buffer = new byte[200 * 200 * 3];
        slide.ReadRegion(0, 1000, 1000, 200, 200, buffer);
        // H&E tissue: mean well away from black and from white, red above green (pink/purple stain).
        double r = 0, g = 0;
        for (int i = 0; i < buffer.Length; i += 3) { r += buffer[i]; g += buffer[i + 1]; }
        r /= buffer.Length / 3.0; g /= buffer.Length / 3.0;
        Assert.InRange(r, 60, 250);
        Assert.True(r > g, $"expected stained tissue (R {r:0} > G {g:0})");
    }

    [SharedFact]
    public void Associated_images_are_listed_and_readable()
    {
        using var slide = SlideSource.Open(Path.Combine(Repo.SharedSlides, "CMU-1-Small-Region.svs"));
        Assert.Equal(new[] { "label", "macro", "thumbnail" }, slide.Info.AssociatedImages.Order());
        using var thumb = slide.AssociatedImage("thumbnail");
        Assert.Equal(3, thumb.Bands);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Generic_tiff_levels_are_decoded_by_tiffload_and_match_openslide(bool jpeg)
    {
        using var dir = new TempDir("slide");
        // Smooth colour ramps plus shapes: JPEG-friendly content whose every region differs.
        using (var x = Image.Xyz(1500, 1100))
        {
            using var bands = x[0] * 0.15 + x[1] * 0.05;
            using var rgb = bands.Bandjoin(x[1] * 0.2, (x[0] + x[1]) * 0.08).Cast(Enums.BandFormat.Uchar);
            TilingImages.SavePyramid(rgb, dir.File("g.tif"), mpp: 0.5, jpeg: jpeg);
        }
        using var slide = SlideSource.Open(dir.File("g.tif"));
        Assert.True(slide.ViaOpenSlide);
        Assert.Equal("generic-tiff", slide.Info.Format);
        Assert.True(slide.LevelsViaTiffload);
        Assert.Equal(4, slide.Levels.Count); // 1500 → 750 → 375 → 187 (fits a 256 tile)
        foreach (var level in slide.Levels)
        {
            var ours = new byte[level.Width * level.Height * 3];
            slide.ReadRegion(level.Index, 0, 0, level.Width, level.Height, ours);
            if (!jpeg && level.Height < 256)
            {
                // OpenSlide 3.4.1 renders a deflate level shorter than one tile as white; tiffload reads its pixels.
                Assert.Contains(ours, v => v < 200);
                continue;
            }
            using var os = Image.Openslideload(dir.File("g.tif"), level: level.Index);
            using var flat = os.Flatten(background: [255.0, 255.0, 255.0]).Cast(Enums.BandFormat.Uchar);
            var theirs = flat.WriteToMemory<byte>();
            int worst = 0;
            long sum = 0;
            for (int i = 0; i < ours.Length; i++)
            {
                int d = Math.Abs(ours[i] - theirs[i]);
                worst = Math.Max(worst, d);
                sum += d;
            }
            // Same tiles, two JPEG decoders (OpenSlide's and libtiff's): equal up to IDCT rounding; deflate: exact.
            Assert.True(worst <= (jpeg ? 3 : 0), $"level {level.Index}: max difference {worst}");
            Assert.True(sum / (double)ours.Length < (jpeg ? 0.5 : 1e-9), $"level {level.Index}: mean difference {sum / (double)ours.Length}");
        }
    }

    [SharedFact]
    public void Vendor_formats_keep_openslide_for_their_levels()
    {
        using var slide = SlideSource.Open(Path.Combine(Repo.SharedSlides, "CMU-1-Small-Region.svs"));
        Assert.True(slide.ViaOpenSlide);
        Assert.False(slide.LevelsViaTiffload);
    }

    [Fact]
    public void Plain_png_and_pyramidal_tiff_open_through_libvips_loaders_with_mpp()
    {
        using var dir = new TempDir("slide");
        using (var img = Image.Black(640, 480, bands: 3) + 128)
        {
            using var u8 = img.Cast(Enums.BandFormat.Uchar);
            u8.Pngsave(dir.File("plain.png"));
            // Strip (untiled) multi-page pyramid: OpenSlide refuses it, libvips' tiffload reads every page.
            u8.Tiffsave(dir.File("pyr.tif"), pyramid: true, tile: false, resunit: Enums.ForeignTiffResunit.Cm, xres: 2000, yres: 2000);
        }
        using (var png = SlideSource.Open(dir.File("plain.png")))
        {
            Assert.Equal("png", png.Info.Reader);
            Assert.Single(png.Levels);
            Assert.Equal(640, png.Levels[0].Width);
        }
        using var tif = SlideSource.Open(dir.File("pyr.tif"));
        Assert.Equal(0.5, tif.MppX!.Value, 6);
        var buffer = new byte[10 * 10 * 3];
        tif.ReadRegion(0, 5, 5, 10, 10, buffer);
        Assert.All(buffer, b => Assert.Equal(128, b));
    }

    [Fact]
    public void Missing_directory_empty_and_text_files_are_not_slides()
    {
        using var dir = new TempDir("bad");
        File.WriteAllBytes(dir.File("empty.svs"), []);
        File.WriteAllText(dir.File("notes.svs"), "this is not a slide\n");
        AssertNotASlide(dir.File("missing.svs"), "no such file");
        AssertNotASlide(dir.Path, "directory");
        AssertNotASlide(dir.File("empty.svs"), "empty");
        AssertNotASlide(dir.File("notes.svs"), "not a slide");
    }

    [Fact]
    public void Truncated_tiff_fails_loudly_instead_of_returning_black()
    {
        using var dir = new TempDir("trunc");
        string full = dir.File("full.tif"), cut = dir.File("cut.tif");
        using (var noise = Image.Gaussnoise(1024, 1024, mean: 128, sigma: 40))
        using (var rgb = noise.Bandjoin(noise, noise).Cast(Enums.BandFormat.Uchar))
            rgb.Tiffsave(full, tile: true, tileWidth: 256, tileHeight: 256, pyramid: true, compression: Enums.ForeignTiffCompression.Deflate);
        var bytes = File.ReadAllBytes(full);
        // Keep the header and the IFDs' first part, lose most tile data.
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 3)]);
        var e = Assert.ThrowsAny<SlideException>(() =>
        {
            using var slide = SlideSource.Open(cut);
            slide.Verify();
            var buffer = new byte[1024 * 1024 * 3];
            slide.ReadRegion(0, 0, 0, 1024, 1024, buffer);
        });
        Assert.Contains(cut, e.Message);
    }

    [SharedFact]
    public void Slide_whose_tiles_cannot_be_decoded_is_corrupt()
    {
        string path = Path.Combine(Repo.SharedSlides, "unreadable.svs");
        var e = Assert.Throws<CorruptSlideException>(() =>
        {
            using var slide = SlideSource.Open(path);
            slide.Verify();
        });
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains("decode", e.Message);
    }

    [SharedFact]
    public void Text_file_named_svs_is_not_a_slide()
    {
        AssertNotASlide(Path.Combine(Repo.SharedSlides, "broken.svs"), "not a slide");
    }

    [SharedFact]
    public void Disposed_source_refuses_reads()
    {
        var slide = SlideSource.Open(Path.Combine(Repo.SharedSlides, "small.svs"));
        slide.Dispose();
        Assert.Throws<ObjectDisposedException>(() => slide.Level(0));
    }

    private static void AssertNotASlide(string path, string reasonFragment)
    {
        var e = Assert.Throws<NotASlideException>(() => SlideSource.Open(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(reasonFragment, e.Message);
    }
}
