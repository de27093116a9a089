using NetVips;
using WsiSegment.Tests.Support;
using WsiSegment.Tiling.Patches;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Tests.Tiling;

/// <summary>The one RGB conversion (RgbImage.ToRgb8) on real libvips images, and the readers that go through it.</summary>
public class RgbImageTests
{
    public RgbImageTests() => VipsSetup.EnsureInitialised();

    /// <summary>2×1 RGBA: an opaque red pixel and a fully transparent (black) one.</summary>
    private static Image RedAndTransparent() =>
        Image.NewFromMemory(new byte[] { 200, 10, 20, 255, 0, 0, 0, 0 }, 2, 1, 4, Enums.BandFormat.Uchar)
            .Copy(interpretation: Enums.Interpretation.Srgb);

    private static void AssertRgb8(Image rgb)
    {
        Assert.Equal(3, rgb.Bands);
        Assert.Equal(Enums.BandFormat.Uchar, rgb.Format);
        Assert.Equal(Enums.Interpretation.Srgb, rgb.Interpretation);
    }

    [Fact]
    public void Transparent_pixels_become_white_and_opaque_ones_keep_their_colour()
    {
        using var rgba = RedAndTransparent();
        using var rgb = RgbImage.ToRgb8(rgba);
        AssertRgb8(rgb);
        Assert.Equal([200.0, 10.0, 20.0], rgb.Getpoint(0, 0));
        Assert.Equal([255.0, 255.0, 255.0], rgb.Getpoint(1, 0));
    }

    [Fact]
    public void Half_transparent_pixels_are_blended_onto_white()
    {
        using var rgba = Image.NewFromMemory(new byte[] { 0, 100, 255, 128 }, 1, 1, 4, Enums.BandFormat.Uchar)
            .Copy(interpretation: Enums.Interpretation.Srgb);
        using var rgb = RgbImage.ToRgb8(rgba);
        var p = rgb.Getpoint(0, 0);
        // v·a/255 + 255·(1 − a/255) with a = 128
        Assert.Equal(127, p[0], 1.0);
        Assert.Equal(177, p[1], 1.0);
        Assert.Equal(255, p[2], 1.0);
    }

    [Fact]
    public void Grey_is_replicated_into_three_bands_and_grey_with_alpha_is_flattened()
    {
        using var grey = Image.NewFromMemory(new byte[] { 7, 250 }, 2, 1, 1, Enums.BandFormat.Uchar)
            .Copy(interpretation: Enums.Interpretation.Bw);
        using var rgb = RgbImage.ToRgb8(grey);
        AssertRgb8(rgb);
        Assert.Equal([7.0, 7.0, 7.0], rgb.Getpoint(0, 0));
        Assert.Equal([250.0, 250.0, 250.0], rgb.Getpoint(1, 0));

        using var greyAlpha = Image.NewFromMemory(new byte[] { 7, 255, 7, 0 }, 2, 1, 2, Enums.BandFormat.Uchar)
            .Copy(interpretation: Enums.Interpretation.Bw);
        using var flat = RgbImage.ToRgb8(greyAlpha);
        AssertRgb8(flat);
        Assert.Equal([7.0, 7.0, 7.0], flat.Getpoint(0, 0));
        Assert.Equal([255.0, 255.0, 255.0], flat.Getpoint(1, 0));
    }

    [Fact]
    public void Sixteen_bit_samples_keep_their_high_byte_and_sixteen_bit_alpha_is_read_as_such()
    {
        using var rgb16 = Image.NewFromMemory(new ushort[] { 0x1234, 0xABCD, 0xFFFF }, 1, 1, 3, Enums.BandFormat.Ushort)
            .Copy(interpretation: Enums.Interpretation.Rgb16);
        using var rgb = RgbImage.ToRgb8(rgb16);
        AssertRgb8(rgb);
        Assert.Equal([0x12, 0xAB, 0xFF], rgb.Getpoint(0, 0));

        // Opaque (alpha 65535) and transparent 16-bit RGBA: libvips would take 65535 as "opaque" for RGB16 only
        // before the samples are made 8-bit; afterwards the alpha is 255.
        using var rgba16 = Image.NewFromMemory(new ushort[] { 0x4000, 0x8000, 0xC000, 0xFFFF, 0x4000, 0x8000, 0xC000, 0 }, 2, 1, 4, Enums.BandFormat.Ushort)
            .Copy(interpretation: Enums.Interpretation.Rgb16);
        using var flat = RgbImage.ToRgb8(rgba16);
        AssertRgb8(flat);
        Assert.Equal([0x40, 0x80, 0xC0], flat.Getpoint(0, 0));
        Assert.Equal([255.0, 255.0, 255.0], flat.Getpoint(1, 0));
    }

    [Fact]
    public void Cmyk_is_converted_to_srgb_rather_than_read_as_rgb_plus_alpha()
    {
        // Paper (no ink) and full black ink.
        using var cmyk = Image.NewFromMemory(new byte[] { 0, 0, 0, 0, 0, 0, 0, 255 }, 2, 1, 4, Enums.BandFormat.Uchar)
            .Copy(interpretation: Enums.Interpretation.Cmyk);
        using var rgb = RgbImage.ToRgb8(cmyk);
        AssertRgb8(rgb);
        Assert.All(rgb.Getpoint(0, 0), v => Assert.True(v > 200, $"paper came out {v}"));
        Assert.All(rgb.Getpoint(1, 0), v => Assert.True(v < 80, $"black ink came out {v}"));
    }

    [Fact]
    public void Of_more_than_four_bands_the_first_three_are_kept()
    {
        using var five = Image.NewFromMemory(new byte[] { 1, 2, 3, 4, 5 }, 1, 1, 5, Enums.BandFormat.Uchar)
            .Copy(interpretation: Enums.Interpretation.Multiband);
        using var rgb = RgbImage.ToRgb8(five);
        AssertRgb8(rgb);
        Assert.Equal([1.0, 2.0, 3.0], rgb.Getpoint(0, 0));
    }

    [Fact]
    public void Rgb8_passes_unchanged_as_a_reference_of_its_own()
    {
        var source = Image.NewFromMemory(new byte[] { 9, 8, 7 }, 1, 1, 3, Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
        using var rgb = RgbImage.ToRgb8(source);
        Assert.NotSame(source, rgb);
        source.Dispose();
        Assert.Equal([9.0, 8.0, 7.0], rgb.Getpoint(0, 0));
    }

    [Fact]
    public void Slides_and_training_patches_read_a_transparent_png_alike()
    {
        using var dir = new TempDir("rgb");
        string png = dir.File("rgba.png");
        using (var rgba = RedAndTransparent())
            rgba.Pngsave(png);
        using var expected = RgbImage.ToRgb8(RedAndTransparent());
        byte[] want = expected.WriteToMemory<byte>();

        using var slide = SlideSource.Open(png);
        var region = new byte[2 * 3];
        slide.ReadRegion(0, 0, 0, 2, 1, region);
        Assert.Equal(want, region);

        var patch = PatchImageFile.Read(png, bands: 3);
        Assert.Equal(3, patch.Bands);
        Assert.Equal(want, patch.Pixels);
    }
}
