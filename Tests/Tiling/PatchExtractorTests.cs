using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using NetVips;
using WsiSegment.Tests.Support;
using WsiSegment.Tiling.Labels;
using WsiSegment.Tiling.Phantoms;
using WsiSegment.Tiling.Training;

namespace WsiSegment.Tests.Tiling;

public class PatchExtractorTests
{
    private const int W = 600, H = 500;

    /// <summary>A plain RGB TIFF with a colour gradient and a resolution of <paramref name="mpp"/> µm/px.</summary>
    private static void WriteSlide(string path, double mpp, int seed = 0)
    {
        using var xy = Image.Xyz(W, H);
        using var x = xy[0];
        using var y = xy[1];
        using var r = x.Linear([0.4], [seed * 7 % 50]);
        using var g = y.Linear([0.4], [20]);
        using var b = (x + y).Linear([0.2], [30]);
        using var rgb = r.Bandjoin(g, b).Cast(Enums.BandFormat.Uchar);
        rgb.Tiffsave(path, tile: true, tileWidth: 128, tileHeight: 128, resunit: Enums.ForeignTiffResunit.Cm, xres: 1000 / mpp, yres: 1000 / mpp);
    }

    private static ExtractOptions Options(double mpp, int patch = 256, int overlap = 0, double keep = 1.0, double val = 0.2, double maskDs = 1.0) => new()
    {
        PatchSize = patch, Overlap = overlap, TargetMpp = mpp, KeepBackground = keep, ValFraction = val, MaskDownsample = maskDs,
        ClassNames = PhantomClasses.Names,
    };

    private static List<string[]> Index(string dir) =>
        File.ReadAllLines(Path.Combine(dir, "index.csv")).Skip(1).Select(l => l.Split(',')).ToList();

    /// <summary>Re-assembles the label patches of one slide into a map of the target grid.</summary>
    private static byte[] Assemble(string dir, int width, int height, double ds, string slideStem)
    {
        var map = new byte[width * height];
        foreach (var row in Index(dir).Where(r => Path.GetFileName(r[0]).StartsWith(slideStem + "_", StringComparison.Ordinal)))
        {
            int x = (int)Math.Round(int.Parse(row[3], CultureInfo.InvariantCulture) / ds), y = (int)Math.Round(int.Parse(row[4], CultureInfo.InvariantCulture) / ds);
            var patch = LabelFiles.Read(Path.Combine(dir, row[1]));
            int p = (int)Math.Sqrt(patch.Length);
            for (int j = 0; j < p && y + j < height; j++)
                for (int i = 0; i < p && x + i < width; i++) map[(y + j) * width + x + i] = patch[j * p + i];
        }
        return map;
    }

    // Ray casting, written independently of the rasteriser: is (px, py) inside any ring an odd number of times?
    private static bool Inside(double px, double py, (double X, double Y)[][] rings)
    {
        bool inside = false;
        foreach (var ring in rings)
            for (int i = 0, j = ring.Length - 1; i < ring.Length; j = i++)
                if ((ring[i].Y > py) != (ring[j].Y > py)
                    && px < (ring[j].X - ring[i].X) * (py - ring[i].Y) / (ring[j].Y - ring[i].Y) + ring[i].X)
                    inside = !inside;
        return inside;
    }

    [Fact]
    public void GeoJson_polygons_are_reproduced_pixel_for_pixel()
    {
        using var dir = new TempDir("extract");
        string slide = dir.File("s.tif"), geo = dir.File("s.geojson");
        WriteSlide(slide, 1.0);
        var square = new[] { new[] { (100.0, 80.0), (400.0, 80.0), (400.0, 380.0), (100.0, 380.0), (100.0, 80.0) }, new[] { (200.0, 180.0), (300.0, 180.0), (300.0, 280.0), (200.0, 280.0), (200.0, 180.0) } };
        var triangle = new[] { new[] { (350.3, 300.7), (590.2, 420.1), (380.9, 490.6), (350.3, 300.7) } };
        string Ring((double X, double Y)[] r) => "[" + string.Join(",", r.Select(p => FormattableString.Invariant($"[{p.X},{p.Y}]"))) + "]";
        string Poly((double X, double Y)[][] rings) => "[" + string.Join(",", rings.Select(Ring)) + "]";
        File.WriteAllText(geo,
            "{\"type\":\"FeatureCollection\",\"features\":["
            + "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":" + Poly(square) + "},"
            + "\"properties\":{\"objectType\":\"annotation\",\"classification\":{\"name\":\"Malignant epithelium\",\"color\":[255,0,0]}}},"
            + "{\"type\":\"Feature\",\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":[" + Poly(triangle) + "]},"
            + "\"properties\":{\"classification\":{\"name\":\"blood\"}}},"
            + "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[5,5]},\"properties\":{}}]}");
        var options = Options(1.0, patch: 256, overlap: 32) with { Unannotated = UnannotatedPixels.Background };
        var summary = new PatchExtractor(options, NullLogger.Instance).Run([new AnnotatedSlide(slide, geo)], dir.File("ds"));
        Assert.Equal(0, summary.ValPatches); // a single slide goes to train
        var map = Assemble(dir.File("ds"), W, H, 1.0, "s");
        int wrong = 0;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
            {
                double cx = x + 0.5, cy = y + 0.5;
                byte expect = Inside(cx, cy, triangle) ? PhantomClasses.Blood : Inside(cx, cy, square) ? PhantomClasses.MalignantEpithelium : (byte)0;
                if (map[y * W + x] != expect) wrong++;
            }
        Assert.Equal(0, wrong);
        Assert.Equal((byte)0, map[230 * W + 250]); // the hole
    }

    [Fact]
    public void A_class_name_missing_from_the_names_is_skipped_counted_and_can_be_mapped()
    {
        using var dir = new TempDir("extract");
        string slide = dir.File("s.tif"), geo = dir.File("bad.geojson");
        WriteSlide(slide, 1.0);
        File.WriteAllText(geo, """[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,0]]]},"properties":{"classification":{"name":"Tumour"}}}]""");
        var content = GeoJsonAnnotations.Load(geo, PhantomClasses.Names);
        Assert.Empty(content.Polygons);
        Assert.Equal(1, content.UnknownClasses["Tumour"]);
        // Nothing else is annotated, so no patch has a labelled pixel: none is written.
        var summary = new PatchExtractor(Options(1.0), NullLogger.Instance).Run([new AnnotatedSlide(slide, geo)], dir.File("ds"));
        Assert.Equal(0, summary.TrainPatches);
        Assert.True(summary.SkippedUnlabelled > 0);
        var mapped = GeoJsonAnnotations.Load(geo, new GeoJsonReadOptions
        {
            ClassNames = PhantomClasses.Names, ClassMap = new Dictionary<string, string> { ["tumour"] = "blood" },
        });
        Assert.Equal(PhantomClasses.Blood, mapped.Polygons.Single().ClassId);
    }

    [Fact]
    public void A_mask_class_map_merges_and_drops_label_values()
    {
        using var dir = new TempDir("extract");
        string slide = dir.File("m.tif"), mask = dir.File("m.mask.tif");
        WriteSlide(slide, 1.0);
        var labels = new byte[W * H];
        for (int i = 0; i < labels.Length; i++) labels[i] = (byte)(i % W / 75); // 8 vertical bands, classes 0..7
        LabelFiles.WriteTiff(mask, labels, W, H);
        var options = Options(1.0, patch: 128) with
        {
            ClassNames = ["background", "tumour", "stroma", "normal"],
            ClassMap = new Dictionary<string, string> { ["2"] = "1", ["3"] = "2", ["4"] = "2", ["1"] = "3", ["5"] = "ignore", ["6"] = "ignore", ["7"] = "ignore" },
        };
        new PatchExtractor(options, NullLogger.Instance).Run([new AnnotatedSlide(slide, mask)], dir.File("ds"));
        var map = Assemble(dir.File("ds"), W, H, 1.0, "m");
        byte[] expected = [0, 3, 1, 2, 2, 255, 255, 255];
        // Patches wholly on dropped classes are not written (their map stays 0): compare where a patch was.
        for (int i = 0; i < labels.Length; i += 13)
            if (map[i] != 0 || labels[i] == 0) Assert.Equal(expected[labels[i]], map[i]);
        Assert.Contains((byte)255, map);
        Assert.Contains((byte)3, map);
    }

    [Fact]
    public void Mask_patches_equal_the_mask_crop_at_the_mask_downsample()
    {
        using var dir = new TempDir("extract");
        string slide = dir.File("m.tif"), mask = dir.File("m.mask.tif");
        WriteSlide(slide, 0.5);
        // A mask at downsample 2 (300x250), patches at 1.0 µm/px = that same grid: patches must be exact crops.
        var rng = new Random(4);
        var labels = new byte[300 * 250];
        for (int i = 0; i < labels.Length; i++) labels[i] = (byte)((i / 300 / 25 + i % 300 / 30 + rng.Next(2)) % 8);
        LabelFiles.WriteTiff(mask, labels, 300, 250, pyramid: true);
        new PatchExtractor(Options(1.0, patch: 128, overlap: 16, maskDs: 2.0), NullLogger.Instance).Run([new AnnotatedSlide(slide, mask)], dir.File("ds"));
        var rows = Index(dir.File("ds"));
        Assert.Equal(9, rows.Count); // x at 0, 112, 172; y at 0, 112, 122
        Assert.Equal(labels, Assemble(dir.File("ds"), 300, 250, 2.0, "m"));
        var (w, h, bands) = LabelFiles.Size(Path.Combine(dir.File("ds"), rows[0][0]));
        Assert.Equal((128, 128, 3), (w, h, bands));
        Assert.All(rows, r => Assert.Equal("2", r[6]));
    }

    [Fact]
    public void Slides_are_split_whole_and_the_output_is_deterministic()
    {
        using var dir = new TempDir("extract");
        var pairs = new List<AnnotatedSlide>();
        for (int s = 0; s < 5; s++)
        {
            string slide = dir.File($"slide{s}.tif"), mask = dir.File($"slide{s}.png");
            WriteSlide(slide, 2.0, s);
            LabelFiles.WritePng(mask, LabelFiles.Rectangle(W, H, 50 * s, 40, 300 + 50 * s, 400, (byte)(s + 1)), W, H);
            pairs.Add(new AnnotatedSlide(slide, mask));
        }
        var opts = Options(2.0, patch: 160, overlap: 20, keep: 0.5, val: 0.4) with { Seed = 9 };
        var a = new PatchExtractor(opts, NullLogger.Instance).Run(pairs, dir.File("a"));
        var b = new PatchExtractor(opts, NullLogger.Instance).Run(Enumerable.Reverse(pairs).ToList(), dir.File("b"));
        Assert.Equal(2, a.ValSlides.Count);
        Assert.Equal(3, a.TrainSlides.Count);
        Assert.Empty(a.TrainSlides.Intersect(a.ValSlides));
        var splits = Index(dir.File("a")).GroupBy(r => r[2]).ToDictionary(g => g.Key, g => g.Select(r => r[7]).Distinct().ToList());
        Assert.Equal(5, splits.Count);
        Assert.All(splits.Values, s => Assert.Single(s));
        Assert.True(a.SkippedBackground > 0, "some background-only patches are skipped at keep 0.5");
        Assert.Equal(File.ReadAllText(dir.File("a/index.csv")), File.ReadAllText(dir.File("b/index.csv")));
        foreach (var f in Directory.GetFiles(dir.File("a/labels")).Concat(Directory.GetFiles(dir.File("a/images"))))
            Assert.Equal(File.ReadAllBytes(f), File.ReadAllBytes(f.Replace("/a/", "/b/")));
    }
}
