using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using NetVips;
using WsiSegment.Tests.Support;
using WsiSegment.Tiling.Labels;
using WsiSegment.Tiling.Training;

namespace WsiSegment.Tests.Tiling;

/// <summary>
/// Sparse QuPath annotations on real H&amp;E (CryoNuSeg pilot patches): the GeoJSON variants users export
/// (FeatureCollection, MultiPolygon, holes, unknown classes, detections, QuPath 0.2 properties) rasterise to the
/// labels and unlabelled pixels the masks shipped beside them say.
/// </summary>
public class RealAnnotationTests
{
    private static ExtractOptions Options(string name, UnannotatedPixels unannotated = UnannotatedPixels.Ignore) => new()
    {
        PatchSize = CryoNuSeg.Size, Overlap = 0, TargetMpp = CryoNuSeg.Mpp(name), KeepBackground = 1, ClassNames = CryoNuSeg.ClassNames,
        Unannotated = unannotated,
    };

    /// <summary>Extracts one real image (one 512² patch at its own MPP) and returns the label patch.</summary>
    private static byte[] ExtractLabels(TempDir dir, string name, string annotation, ExtractOptions options)
    {
        string outDir = dir.File("ds-" + Guid.NewGuid().ToString("N"));
        new PatchExtractor(options, NullLogger.Instance).Run([new AnnotatedSlide(CryoNuSeg.Image(name), annotation)], outDir);
        var labels = Directory.GetFiles(Path.Combine(outDir, "labels"));
        Assert.Single(labels);
        return LabelFiles.Read(labels[0]);
    }

    private static JsonObject Feature(JsonNode geometry, string? className, string objectType = "annotation") => new()
    {
        ["type"] = "Feature",
        ["id"] = "PathAnnotationObject",
        ["geometry"] = geometry,
        ["properties"] = new JsonObject
        {
            ["objectType"] = objectType,
            ["isLocked"] = false,
            ["measurements"] = new JsonArray(),
            ["classification"] = className is null ? null : new JsonObject { ["name"] = className, ["colorRGB"] = -3670016 },
        },
    };

    private static JsonArray Square(int x0, int y0, int x1, int y1) =>
        new(new JsonArray(new JsonArray(x0, y0), new JsonArray(x1, y0), new JsonArray(x1, y1), new JsonArray(x0, y1), new JsonArray(x0, y0)));

    [SharedTheory]
    [InlineData(CryoNuSeg.Pancreas)]
    [InlineData(CryoNuSeg.Thyroid)]
    public void The_shipped_geojson_rasterises_to_the_shipped_mask(string name)
    {
        using var dir = new TempDir("real-geojson");
        var mask = LabelFiles.Read(CryoNuSeg.Mask(name));
        var labels = ExtractLabels(dir, name, CryoNuSeg.GeoJson(name), Options(name, UnannotatedPixels.Background));
        int differ = labels.Zip(mask).Count(p => p.First != p.Second);
        // The README: the GeoJSON's repaired outlines give IoU 0.9998 against the masks by pixel-centre sampling.
        Assert.True(differ < 40, $"{differ} of {mask.Length} pixels differ from the mask");
        Assert.True(mask.Count(v => v == 1) > 10_000);
    }

    [SharedFact]
    public void Holes_multipolygons_unknown_classes_and_detections_give_the_expected_labels_and_unlabelled_pixels()
    {
        using var dir = new TempDir("real-variants");
        string name = CryoNuSeg.Pancreas;
        var rings = CryoNuSeg.NucleusRings(name);
        var mask = LabelFiles.Read(CryoNuSeg.Mask(name));
        static (double X0, double Y0, double X1, double Y1) Box(JsonArray ring) =>
            (ring.Min(p => p![0]!.GetValue<double>()), ring.Min(p => p![1]!.GetValue<double>()),
             ring.Max(p => p![0]!.GetValue<double>()), ring.Max(p => p![1]!.GetValue<double>()));
        var boxes = rings.Select(Box).ToList();
        bool Alone(int i) => !boxes.Where((b, j) => j != i).Any(b => b.X0 <= boxes[i].X1 && boxes[i].X0 <= b.X1 && b.Y0 <= boxes[i].Y1 && boxes[i].Y0 <= b.Y1);
        // Nuclei left of x = 256 that touch no other become holes in a background annotation (holes of one polygon
        // that overlap would cancel out under the even-odd rule); the rest make one Nucleus MultiPolygon.
        var leftIndex = Enumerable.Range(0, rings.Count).Where(i => boxes[i].X0 < 256 && Alone(i)).ToHashSet();
        var left = leftIndex.Select(i => rings[i]).ToList();
        var right = Enumerable.Range(0, rings.Count).Where(i => !leftIndex.Contains(i)).Select(i => rings[i]).ToList();
        Assert.True(left.Count > 20 && right.Count > 20, $"{left.Count} holes, {right.Count} nuclei");

        var background = new JsonArray(Square(0, 0, 512, 512)[0]!.DeepClone());
        foreach (var r in left) background.Add(r.DeepClone());
        var multi = new JsonArray(right.Select(r => (JsonNode)new JsonArray(r.DeepClone())).ToArray());
        var features = new JsonArray
        {
            Feature(new JsonObject { ["type"] = "Polygon", ["coordinates"] = background }, "background"),
            Feature(new JsonObject { ["type"] = "MultiPolygon", ["coordinates"] = multi }, "Nucleus"),
            // A class the names file does not know (skipped and reported), a detection (skipped), an unclassified feature.
            Feature(new JsonObject { ["type"] = "Polygon", ["coordinates"] = Square(300, 0, 340, 40) }, "Tumor"),
            Feature(new JsonObject { ["type"] = "Polygon", ["coordinates"] = Square(400, 0, 440, 40) }, "Nucleus", objectType: "detection"),
            Feature(new JsonObject { ["type"] = "Polygon", ["coordinates"] = Square(460, 0, 500, 40) }, null),
        };
        string path = dir.File("variants.geojson");
        File.WriteAllText(path, new JsonObject { ["type"] = "FeatureCollection", ["features"] = features }.ToJsonString());

        var content = GeoJsonAnnotations.Load(path, CryoNuSeg.ClassNames);
        Assert.Equal(new Dictionary<string, int> { ["Tumor"] = 1 }, content.UnknownClasses);
        Assert.Equal(1, content.SkippedDetections);
        Assert.Equal(1, content.SkippedUnclassified);
        Assert.Equal(1 + right.Count, content.Polygons.Count);

        var labels = ExtractLabels(dir, name, path, Options(name));
        // Expected from the mask: the hole nuclei are unlabelled, the other nuclei Nucleus, the rest background.
        int wrong = 0, ignored = 0, nucleus = 0;
        for (int i = 0; i < mask.Length; i++)
        {
            bool ok = mask[i] == 0 ? labels[i] == 0 : labels[i] is 1 or LabelValues.Ignore;
            if (!ok) wrong++;
            if (labels[i] == LabelValues.Ignore) ignored++;
            if (labels[i] == 1) nucleus++;
        }
        Assert.True(wrong < 40, $"{wrong} pixels disagree with the mask");
        // Left of x = 240 every nucleus pixel not of a hole nucleus belongs to a touching pair; right of 272 (beyond
        // the holes, which start left of 256 and are ~20 px wide) almost every nucleus pixel is labelled Nucleus.
        int nucleusRight = Enumerable.Range(0, mask.Length).Count(i => mask[i] == 1 && i % 512 >= 290);
        int labelledRight = Enumerable.Range(0, mask.Length).Count(i => labels[i] == 1 && i % 512 >= 290);
        Assert.InRange(labelledRight, nucleusRight * 0.99, nucleusRight * 1.01);
        Assert.True(ignored > 3000 && nucleus > 3000, $"{ignored} unlabelled, {nucleus} nucleus pixels");
        Assert.Equal(mask.Count(v => v == 1), ignored + nucleus, 60.0);
        // The unknown class, the detection and the unclassified square left their background pixels alone.
        Assert.All(new[] { (320, 20), (420, 20), (480, 20) }, p => Assert.Equal(mask[p.Item2 * 512 + p.Item1] == 0 ? 0 : 1, labels[p.Item2 * 512 + p.Item1] == 0 ? 0 : 1));

        // --class-map Tumor=Nucleus paints the unknown class; --include-detections the detection.
        var mapped = ExtractLabels(dir, name, path, Options(name) with
        {
            ClassMap = new Dictionary<string, string> { ["Tumor"] = "Nucleus" }, IncludeDetections = true,
        });
        Assert.Equal(1, mapped[20 * 512 + 320]);
        Assert.Equal(1, mapped[20 * 512 + 420]);
    }

    [SharedFact]
    public void Sparse_annotations_leave_unannotated_pixels_unlabelled_and_patches_without_labels_unwritten()
    {
        using var dir = new TempDir("real-sparse");
        string name = CryoNuSeg.Thyroid; // nuclei drawn only in x 1–310, y 201–499
        var mask = LabelFiles.Read(CryoNuSeg.Mask(name));
        // Default for GeoJSON: everything outside the outlines is unlabelled.
        var labels = ExtractLabels(dir, name, CryoNuSeg.GeoJson(name), Options(name));
        for (int i = 0; i < mask.Length; i += 7)
            Assert.Equal(mask[i] == 1 ? (byte)1 : LabelValues.Ignore, labels[i]);

        // 128² patches: those in the unannotated upper half have no labelled pixel and are not written.
        string outDir = dir.File("tiles");
        var summary = new PatchExtractor(Options(name) with { PatchSize = 128 }, NullLogger.Instance)
            .Run([new AnnotatedSlide(CryoNuSeg.Image(name), CryoNuSeg.GeoJson(name))], outDir);
        Assert.True(summary.SkippedUnlabelled >= 4, $"{summary.SkippedUnlabelled} unlabelled patches skipped");
        Assert.Equal(16 - summary.SkippedUnlabelled, Directory.GetFiles(Path.Combine(outDir, "labels")).Length);
        foreach (var file in Directory.GetFiles(Path.Combine(outDir, "labels")))
            Assert.Contains(LabelFiles.Read(file), v => v != LabelValues.Ignore);
        // index.csv: the MPP and the unlabelled pixel count of each patch.
        var header = File.ReadLines(Path.Combine(outDir, "index.csv")).First().Split(',');
        Assert.Equal(["ignored", "mpp"], header[^2..]);
    }

    [SharedFact]
    public void A_mask_with_an_ignore_value_and_a_tile_smaller_than_the_patch_are_padded_with_unlabelled_pixels()
    {
        using var dir = new TempDir("real-tile");
        string name = CryoNuSeg.Pancreas;
        // A 300×200 PNG tile (no resolution recorded) and its mask crop, as tile data sets come.
        using (var image = Image.NewFromFile(CryoNuSeg.Image(name)))
        using (var crop = image.Crop(100, 150, 300, 200))
            crop.Pngsave(dir.File("tile.png"));
        using (var m = Image.NewFromFile(CryoNuSeg.Mask(name)))
        using (var crop = m.Crop(100, 150, 300, 200))
            crop.Pngsave(dir.File("tile.mask.png"));
        var mask = LabelFiles.Read(dir.File("tile.mask.png"));

        var options = Options(name) with { PatchSize = 384, SlideMpp = CryoNuSeg.Mpp(name), IgnoreValue = 0 };
        string outDir = dir.File("ds");
        new PatchExtractor(options, NullLogger.Instance).Run([new AnnotatedSlide(dir.File("tile.png"), dir.File("tile.mask.png"))], outDir);
        var labels = LabelFiles.Read(Directory.GetFiles(Path.Combine(outDir, "labels")).Single());
        Assert.Equal(384 * 384, labels.Length);
        for (int y = 0; y < 384; y++)
            for (int x = 0; x < 384; x++)
            {
                // --ignore-value 0: the mask's 0 means "not annotated"; beyond the tile nothing is labelled.
                byte expected = x < 300 && y < 200 && mask[y * 300 + x] == 1 ? (byte)1 : LabelValues.Ignore;
                Assert.Equal(expected, labels[y * 384 + x]);
            }
        var row = File.ReadLines(Path.Combine(outDir, "index.csv")).Skip(1).Single().Split(',');
        var header = File.ReadLines(Path.Combine(outDir, "index.csv")).First().Split(',');
        Assert.Equal(CryoNuSeg.Mpp(name), double.Parse(row[Array.IndexOf(header, "mpp")], System.Globalization.CultureInfo.InvariantCulture), 6);
    }

    [SharedFact]
    public void A_split_file_assigns_whole_images_to_train_and_test()
    {
        using var dir = new TempDir("real-split");
        // At 0.5 µm/px each image is ~259 px: one 264² patch.
        var options = Options(CryoNuSeg.Pancreas) with { PatchSize = 264, TargetMpp = 0.5, Split = SplitFile.Load(CryoNuSeg.Split) };
        var summary = new PatchExtractor(options, NullLogger.Instance).Run(
            [new AnnotatedSlide(CryoNuSeg.Image(CryoNuSeg.Pancreas), CryoNuSeg.Mask(CryoNuSeg.Pancreas)),
             new AnnotatedSlide(CryoNuSeg.Image(CryoNuSeg.Thyroid), CryoNuSeg.Mask(CryoNuSeg.Thyroid))], dir.File("ds"));
        Assert.Equal(1, summary.TrainPatches);
        Assert.Equal(1, summary.TestPatches);
        Assert.Equal(0, summary.ValPatches);
        var rows = File.ReadLines(dir.File("ds/index.csv")).Skip(1).ToList();
        Assert.Contains(rows, r => r.Contains(CryoNuSeg.Pancreas) && r.Contains(",train,"));
        Assert.Contains(rows, r => r.Contains(CryoNuSeg.Thyroid) && r.Contains(",test,"));
    }
}
