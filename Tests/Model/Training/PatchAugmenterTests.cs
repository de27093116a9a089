using WsiSegment.Model.Training;

namespace WsiSegment.Tests.Model.Training;

public class PatchAugmenterTests
{
    private static (DecodedImage Image, DecodedImage Labels) Ramp(int w, int h)
    {
        var rgb = new byte[w * h * 3];
        var lab = new byte[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int i = y * w + x;
                rgb[i * 3] = (byte)(x * 4);
                rgb[i * 3 + 1] = (byte)(y * 4);
                rgb[i * 3 + 2] = 100;
                lab[i] = (byte)((x / 4 + 2 * (y / 4) + (x > y ? 1 : 0)) % 5);
            }
        return (new DecodedImage(rgb, w, h, 3), new DecodedImage(lab, w, h, 1));
    }

    [Fact]
    public void Validation_view_is_the_patch_normalised_and_unchanged()
    {
        var (img, lab) = Ramp(16, 16);
        var aug = new PatchAugmenter(new AugmentationOptions(), InputConvention.FromStatistics([0.5f, 0.5f, 0.5f], [0.25f, 0.25f, 0.25f]));
        var input = new float[3 * 16 * 16];
        var target = new byte[16 * 16];
        aug.Apply(img, lab, 16, null, input, target);
        Assert.Equal(lab.Pixels, target);
        for (int i = 0; i < 256; i += 17)
            for (int c = 0; c < 3; c++)
                Assert.Equal((img.Pixels[i * 3 + c] / 255f - 0.5f) / 0.25f, input[c * 256 + i], 4);
    }

    [Fact]
    public void Flips_and_rotations_only_permute_labels_and_are_reproducible_with_a_seed()
    {
        var (img, lab) = Ramp(16, 16);
        var options = new AugmentationOptions { MinScale = 1, MaxScale = 1, StainJitter = 0.05 };
        var aug = new PatchAugmenter(options, InputConvention.FromStatistics([0.5f, 0.5f, 0.5f], [0.25f, 0.25f, 0.25f]));
        var seen = new HashSet<string>();
        for (int seed = 0; seed < 24; seed++)
        {
            var input = new float[3 * 256];
            var target = new byte[256];
            aug.Apply(img, lab, 16, new Random(seed), input, target);
            Assert.Equal(lab.Pixels.Order(), target.Order());
            seen.Add(Convert.ToBase64String(target));
            var again = new byte[256];
            var input2 = new float[3 * 256];
            aug.Apply(img, lab, 16, new Random(seed), input2, again);
            Assert.Equal(target, again);
            Assert.Equal(input, input2);
        }
        Assert.True(seen.Count >= 6, $"only {seen.Count} distinct orientations in 24 draws");
    }

    [Fact]
    public void Zooming_out_pads_with_the_ignore_label()
    {
        var (img, lab) = Ramp(16, 16);
        var aug = new PatchAugmenter(new AugmentationOptions { MinScale = 0.5, MaxScale = 0.5, Flips = false, Rotations = false },
            InputConvention.FromStatistics([0.5f, 0.5f, 0.5f], [0.25f, 0.25f, 0.25f]));
        var target = new byte[256];
        aug.Apply(img, lab, 16, new Random(1), new float[3 * 256], target);
        Assert.Contains(PatchAugmenter.IgnoreLabel, target);
        Assert.Contains(target, t => t != PatchAugmenter.IgnoreLabel);
    }

    [Fact]
    public void Labels_are_downsampled_by_block_mode_ignoring_padding()
    {
        var labels = new byte[16 * 16];
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 16; x++)
                labels[y * 16 + x] = x < 8 ? (byte)(x < 3 ? 2 : 1) : (y < 8 ? PatchAugmenter.IgnoreLabel : (byte)3);
        labels[8 * 16 + 8] = 4;
        var small = new byte[4];
        PatchAugmenter.DownsampleLabels(labels, 16, 8, small);
        Assert.Equal(new byte[] { 1, PatchAugmenter.IgnoreLabel, 1, 3 }, small);
    }
}
