using System.Text.Json;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Commands;

public class EvalCommandTests
{
    [Fact]
    public void Dataset_mode_scores_two_known_rectangles_as_computed_by_hand()
    {
        using var dir = new TempDir("eval");
        Directory.CreateDirectory(dir.File("pred"));
        Directory.CreateDirectory(dir.File("truth"));
        // Truth: class 2 in x 0..39, y 0..19 (800 px) of 80x40; prediction: x 20..59 (800 px). Overlap 400, union 1200.
        LabelFiles.WritePng(dir.File("truth/a.png"), LabelFiles.Rectangle(80, 40, 0, 0, 40, 20, 2), 80, 40);
        LabelFiles.WritePng(dir.File("pred/a.png"), LabelFiles.Rectangle(80, 40, 20, 0, 60, 20, 2), 80, 40);
        var r = Tool.WsiSegment("eval", "--pred-dir", dir.File("pred"), "--truth-dir", dir.File("truth"), "--json", dir.File("e.json"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("malignant epithelium", r.Stdout);
        using var doc = JsonDocument.Parse(File.ReadAllText(dir.File("e.json")));
        var root = doc.RootElement;
        double iou2 = 400.0 / 1200, iou0 = 2000.0 / 2800; // background: 2400 each, 2000 shared, union 2800
        Assert.Equal(iou2, root.GetProperty("classes")[2].GetProperty("ioU").GetDouble(), 9);
        Assert.Equal((iou0 + iou2) / 2, root.GetProperty("meanIoU").GetDouble(), 9);
        Assert.Equal(2400.0 / 3200, root.GetProperty("pixelAccuracy").GetDouble(), 9);
        Assert.Equal(400, root.GetProperty("confusion")[2][0].GetInt64());
    }

    [Fact]
    public void Whole_slide_mode_reads_tiff_masks_and_resamples_the_truth_only_when_asked()
    {
        using var dir = new TempDir("eval");
        // 1000x600 prediction; truth at twice the size (each label pixel a 2x2 block): equal after nearest resampling.
        var pred = LabelFiles.Rectangle(1000, 600, 100, 50, 700, 450, 6);
        var truth = new byte[2000 * 1200];
        for (int y = 0; y < 1200; y++)
            for (int x = 0; x < 2000; x++) truth[y * 2000 + x] = (x / 2 >= 100 && x / 2 < 600 && y / 2 >= 50 && y / 2 < 450) ? (byte)6 : (byte)0;
        LabelFiles.WriteTiff(dir.File("p.mask.tif"), pred, 1000, 600, pyramid: true);
        LabelFiles.WriteTiff(dir.File("t.labels.tif"), truth, 2000, 1200);

        var bad = Tool.WsiSegment("eval", "--pred", dir.File("p.mask.tif"), "--truth", dir.File("t.labels.tif"));
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("p.mask.tif is 1000x600 but", bad.Stderr);
        Assert.Contains("t.labels.tif is 2000x1200", bad.Stderr);
        Assert.Contains("--resample", bad.Stderr);

        var r = Tool.WsiSegment("eval", "--pred", dir.File("p.mask.tif"), "--truth", dir.File("t.labels.tif"), "--resample", "--json", dir.File("e.json"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(File.ReadAllText(dir.File("e.json")));
        var blood = doc.RootElement.GetProperty("classes")[6];
        Assert.Equal(600 * 400, blood.GetProperty("predictedPixels").GetInt64());
        Assert.Equal(500 * 400, blood.GetProperty("truthPixels").GetInt64());
        Assert.Equal(500.0 * 400 / (600 * 400), blood.GetProperty("ioU").GetDouble(), 9);
        Assert.Equal(600_000, doc.RootElement.GetProperty("pixels").GetInt64());
    }

    [Fact]
    public void A_label_value_beyond_the_classes_is_an_error_naming_the_file()
    {
        using var dir = new TempDir("eval");
        Directory.CreateDirectory(dir.File("pred"));
        Directory.CreateDirectory(dir.File("truth"));
        LabelFiles.WritePng(dir.File("truth/x.png"), LabelFiles.Rectangle(20, 20, 5, 5, 10, 10, 9), 20, 20);
        LabelFiles.WritePng(dir.File("pred/x.png"), new byte[400], 20, 20);
        var r = Tool.WsiSegment("eval", "--pred-dir", dir.File("pred"), "--truth-dir", dir.File("truth"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(dir.File("truth/x.png"), r.Stderr);
        Assert.Contains("label value 9 at pixel (5, 5)", r.Stderr);

        LabelFiles.WritePng(dir.File("pred/x.png"), new byte[300], 20, 15);
        LabelFiles.WritePng(dir.File("truth/x.png"), new byte[400], 20, 20);
        r = Tool.WsiSegment("eval", "--pred-dir", dir.File("pred"), "--truth-dir", dir.File("truth"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("pred/x.png is 20x15 but", r.Stderr);
    }

    [Fact]
    public void Extract_reports_a_geojson_class_not_in_the_names_file_and_fails_when_nothing_is_left()
    {
        using var dir = new TempDir("eval");
        var slide = Path.Combine(Repo.Root, "slides", "phantom-5.tif");
        File.WriteAllText(dir.File("names.txt"), "background\ntumour\n");
        File.WriteAllText(dir.File("a.geojson"), """{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,0]]]},"properties":{"classification":{"name":"Stroma"}}}""");
        var r = Tool.WsiSegment("extract", dir.File("ds"), slide, "--annotations", dir.File("a.geojson"), "--names", dir.File("names.txt"), "--slide-mpp", "0.5");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(dir.File("a.geojson"), r.Stderr);
        Assert.Contains("'Stroma'", r.Stderr);
    }

    [Fact]
    public void Levels_of_page_and_subifd_pyramids_can_be_compared()
    {
        using var dir = new TempDir("eval");
        var labels = LabelFiles.Rectangle(512, 256, 64, 64, 320, 192, 3);
        LabelFiles.WriteTiff(dir.File("pages.tif"), labels, 512, 256, pyramid: true);
        using (var image = NetVips.Image.NewFromMemory(labels, 512, 256, 1, NetVips.Enums.BandFormat.Uchar))
            image.Tiffsave(dir.File("subifd.tif"), tile: true, tileWidth: 64, tileHeight: 64, pyramid: true, subifd: true,
                compression: NetVips.Enums.ForeignTiffCompression.Deflate, regionShrink: NetVips.Enums.RegionShrink.Mode);
        var r = Tool.WsiSegment("eval", "--pred", dir.File("subifd.tif"), "--truth", dir.File("pages.tif"), "--level", "1", "--json", dir.File("e.json"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(File.ReadAllText(dir.File("e.json")));
        Assert.Equal(256 * 128, doc.RootElement.GetProperty("pixels").GetInt64());
        Assert.Equal(1.0, doc.RootElement.GetProperty("meanIoU").GetDouble(), 12);
        Assert.Equal(128 * 64, doc.RootElement.GetProperty("classes")[3].GetProperty("truthPixels").GetInt64());

        r = Tool.WsiSegment("eval", "--pred", dir.File("subifd.tif"), "--truth", dir.File("pages.tif"), "--level", "9");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("level 9", r.Stderr);
    }
}
