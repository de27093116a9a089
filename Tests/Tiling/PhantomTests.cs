using System.Security.Cryptography;
using NetVips;
using WsiSegment.Tests.Support;
using WsiSegment.Tiling.Phantoms;

namespace WsiSegment.Tests.Tiling;

public class PhantomTests
{
    private static PhantomOptions Small(int seed) => new() { Width = 1024, Height = 1200, Seed = seed, TissueFraction = 0.6, Mpp = 0.5 };

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    [Fact]
    public void Same_seed_gives_the_same_bytes_and_another_seed_other_bytes()
    {
        using var dir = new TempDir("phantom");
        var a = PhantomWriter.Write(Small(5), dir.File("a"));
        var b = PhantomWriter.Write(Small(5), dir.File("b"));
        var c = PhantomWriter.Write(Small(6), dir.File("c"));
        Assert.Equal(Hash(a.Slide), Hash(b.Slide));
        Assert.Equal(Hash(a.Labels), Hash(b.Labels));
        Assert.NotEqual(Hash(a.Slide), Hash(c.Slide));
        Assert.NotEqual(Hash(a.Labels), Hash(c.Labels));
        Assert.EndsWith("phantom-5.tif", a.Slide);
        Assert.EndsWith("phantom-5.labels.tif", a.Labels);
        Assert.Empty(Directory.GetFiles(dir.File("a"), "*.partial"));
    }

    [Fact]
    public void Colours_follow_the_labels_class_by_class_and_areas_are_balanced()
    {
        using var dir = new TempDir("phantom");
        var files = PhantomWriter.Write(Small(11), dir.Path);
        var labels = LabelFiles.Read(files.Labels);
        byte[] rgb;
        using (var slide = Image.NewFromFile(files.Slide)) rgb = slide.WriteToMemory<byte>();
        Assert.Equal(labels.Length * 3, rgb.Length);

        var sum = new double[8, 3];
        var count = new long[8];
        for (int i = 0; i < labels.Length; i++)
        {
            int c = labels[i];
            Assert.InRange(c, 0, 7);
            count[c]++;
            for (int k = 0; k < 3; k++) sum[c, k] += rgb[3 * i + k];
        }
        (double R, double G, double B, double L) Mean(int c) =>
            (sum[c, 0] / count[c], sum[c, 1] / count[c], sum[c, 2] / count[c], (sum[c, 0] + sum[c, 1] + sum[c, 2]) / (3.0 * count[c]));

        double tissue = 1 - count[0] / (double)labels.Length;
        Assert.InRange(tissue, 0.5, 0.7);
        for (int c = 1; c < 8; c++) // each tissue class about 1/7 of the tissue
            Assert.InRange(count[c] / (labels.Length * tissue), 0.07, 0.25);

        var bg = Mean(PhantomClasses.Background);
        Assert.True(bg.R > 235 && bg.G > 235 && bg.B > 235, $"background {bg}");
        var blood = Mean(PhantomClasses.Blood);
        Assert.True(blood.R > blood.G + 60 && blood.R > blood.B + 40, $"blood {blood}");
        foreach (var c in new[] { PhantomClasses.NormalStroma, PhantomClasses.DesmoplasticStroma, PhantomClasses.BenignEpithelium, PhantomClasses.MalignantEpithelium, PhantomClasses.Necrosis })
        {
            var m = Mean(c); // H&E: pink to purple, green absorbed most
            Assert.True(m.G < m.R - 20 && m.G < m.B - 20 && m.L < 225, $"class {c}: {m}");
        }
        var stroma = Mean(PhantomClasses.NormalStroma);
        Assert.True(stroma.R > stroma.B - 15, $"normal stroma is pink, not blue: {stroma}");
        var benign = Mean(PhantomClasses.BenignEpithelium);
        var malignant = Mean(PhantomClasses.MalignantEpithelium);
        Assert.True(malignant.L < benign.L - 15, $"malignant {malignant} darker than benign {benign}");
        Assert.True(malignant.B > malignant.R, $"malignant epithelium is purple/blue: {malignant}");
        var secretion = Mean(PhantomClasses.Secretion);
        Assert.True(secretion.L > 200 && secretion.L < bg.L - 10, $"secretion pale but not background: {secretion}");
        var desmo = Mean(PhantomClasses.DesmoplasticStroma);
        double distance = Math.Sqrt(Math.Pow(desmo.R - stroma.R, 2) + Math.Pow(desmo.G - stroma.G, 2) + Math.Pow(desmo.B - stroma.B, 2));
        Assert.True(distance > 30, $"desmoplastic {desmo} vs normal stroma {stroma}: mean colours {distance:0} apart");
    }

    [Fact]
    public void Synth_command_writes_an_openslide_generic_tiff_and_a_label_pyramid_equal_to_the_generator()
    {
        using var dir = new TempDir("synth");
        var r = Tool.WsiSegment("synth", dir.Path, "--size", "1500x1100", "--seed", "3", "--tissue", "0.5", "--mpp", "0.25");
        Assert.True(r.ExitCode == 0, r.Stderr);
        string slide = dir.File("phantom-3.tif"), labels = dir.File("phantom-3.labels.tif");

        var props = OpenSlideProperties.Read(slide);
        Assert.Equal("generic-tiff", props["openslide.vendor"]);
        Assert.True(props.LevelCount >= 2, "pyramid levels");
        Assert.Equal("centimeter", props["tiff.ResolutionUnit"]);
        Assert.Equal(40000, props.Number("tiff.XResolution")!.Value, 3); // 0.25 µm/px = 40,000 px/cm
        Assert.Equal(40000, props.Number("tiff.YResolution")!.Value, 3);
        Assert.Null(props["tiff.ImageDescription"]);

        var info = Tool.Run(Tool.Require("tiffinfo", "libtiff-tools"), [labels]);
        Assert.Contains("Tile Width: 512 Tile Length: 512", info.Stdout);
        Assert.Contains("AdobeDeflate", info.Stdout);
        Assert.Contains("Predictor: horizontal differencing", info.Stdout);
        Assert.DoesNotContain("ImageDescription", info.Stdout);
        Assert.Contains("Resolution: 40000, 40000 pixels/cm", info.Stdout);
        Assert.Contains("Subfile Type: reduced-resolution image", info.Stdout);

        using var phantom = PhantomGenerator.Create(new PhantomOptions { Width = 1500, Height = 1100, Seed = 3, TissueFraction = 0.5, Mpp = 0.25 });
        Assert.Equal(phantom.Labels.WriteToMemory<byte>(), LabelFiles.Read(labels));
        // Level 1 was shrunk by mode: only labels that exist, nothing averaged in between.
        var level1 = LabelFiles.Read(labels, page: 1);
        Assert.All(level1, v => Assert.InRange(v, (byte)0, (byte)7));
    }

    [Fact]
    public void A_mosaic_repeats_the_slide_and_its_labels_at_the_same_mpp_and_openslide_reads_it()
    {
        using var dir = new TempDir("mosaic");
        var source = PhantomWriter.Write(new PhantomOptions { Width = 300, Height = 200, Seed = 4, TissueFraction = 0.7, Mpp = 0.5 }, dir.File("base"));
        var big = PhantomWriter.WriteMosaic(source, 3, 2, 0.5, dir.File("big"));

        var props = OpenSlideProperties.Read(big.Slide);
        Assert.Equal("generic-tiff", props["openslide.vendor"]);
        Assert.Equal(900, props.Number("openslide.level[0].width"));
        Assert.Equal(400, props.Number("openslide.level[0].height"));
        Assert.Equal(20000, props.Number("tiff.XResolution")!.Value, 3); // 0.5 µm/px = 20,000 px/cm

        var small = LabelFiles.Read(source.Labels);
        var labels = LabelFiles.Read(big.Labels);
        var expected = new byte[900 * 400];
        for (int y = 0; y < 400; y++)
            for (int x = 0; x < 900; x++)
                expected[y * 900 + x] = small[(y % 200) * 300 + x % 300];
        Assert.Equal(expected, labels);
        Assert.Throws<ArgumentOutOfRangeException>(() => PhantomWriter.WriteMosaic(source, 0, 2, 0.5, dir.File("none")));
    }
}
