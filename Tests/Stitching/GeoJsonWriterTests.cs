using System.Diagnostics;
using System.Text.Json;
using WsiSegment.Stitching.Output;
using WsiSegment.Tests.Support;
using Xunit.Abstractions;

namespace WsiSegment.Tests.Stitching;

public class GeoJsonWriterTests(ITestOutputHelper output)
{
    private static (double MinX, double MinY, double MaxX, double MaxY) Bounds(JsonElement multiPolygon)
    {
        double minX = double.MaxValue, minY = double.MaxValue, maxX = double.MinValue, maxY = double.MinValue;
        foreach (var polygon in multiPolygon.EnumerateArray())
            foreach (var ring in polygon.EnumerateArray())
                foreach (var p in ring.EnumerateArray())
                {
                    double x = p[0].GetDouble(), y = p[1].GetDouble();
                    (minX, minY, maxX, maxY) = (Math.Min(minX, x), Math.Min(minY, y), Math.Max(maxX, x), Math.Max(maxY, y));
                }
        return (minX, minY, maxX, maxY);
    }

    [Fact]
    public void Features_are_one_per_present_class_in_level0_pixels_as_qupath_imports_them()
    {
        // 400×300: class 2 rectangle, class 5 a frame (a polygon with a hole) touching the right border, class 3 absent.
        const int w = 400, h = 300;
        var labels = new byte[w * h];
        for (int y = 50; y < 120; y++) for (int x = 100; x < 250; x++) labels[y * w + x] = 2;
        for (int y = 150; y < 300; y++) for (int x = 300; x < 400; x++)
            labels[y * w + x] = (byte)(x >= 330 && x < 370 && y >= 190 && y < 260 ? 0 : 5);

        using var dir = new TempDir("geo");
        var regions = GeoJsonWriter.Write(dir.File("s.geojson"), ReducedLabels.Full(w, h, labels), TestLabels.Classes, analysisToLevel0: 4);
        Assert.All(regions, r => Assert.True(r.Geometry.IsValid));
        Assert.Single(Directory.GetFiles(dir.Path)); // no temporary left

        using var doc = JsonDocument.Parse(File.ReadAllText(dir.File("s.geojson")));
        Assert.Equal("FeatureCollection", doc.RootElement.GetProperty("type").GetString());
        var features = doc.RootElement.GetProperty("features").EnumerateArray().ToArray();
        Assert.Equal(2, features.Length);

        var rect = features.Single(f => f.GetProperty("properties").GetProperty("classification").GetProperty("name").GetString() == "Stroma");
        Assert.Equal("annotation", rect.GetProperty("properties").GetProperty("objectType").GetString());
        Assert.Equal([0, 150, 0], rect.GetProperty("properties").GetProperty("classification").GetProperty("color").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("MultiPolygon", rect.GetProperty("geometry").GetProperty("type").GetString());
        Assert.Equal((400.0, 200.0, 1000.0, 480.0), Bounds(rect.GetProperty("geometry").GetProperty("coordinates")));

        var frame = features.Single(f => f.GetProperty("properties").GetProperty("classification").GetProperty("name").GetString() == "Immune");
        var coords = frame.GetProperty("geometry").GetProperty("coordinates");
        Assert.Equal((1200.0, 600.0, 1600.0, 1200.0), Bounds(coords));
        Assert.Equal(2, coords[0].GetArrayLength()); // shell + hole
        Assert.Equal(100 * 150 - 40 * 70, regions.Single(r => r.Label == 5).Geometry.Area / 16, 6);
    }

    [Fact]
    public void Reduced_spool_labels_are_mode_shrunk_and_scaled_back_to_the_full_image()
    {
        using var dir = new TempDir("geo");
        using var spool = TestLabels.Spool(dir.File("l.u8"), 1500, 1100);
        var reduced = ReducedLabels.FromSpool(spool, maxSide: 500);
        Assert.Equal((3, 500, 367), (reduced.Factor, reduced.Width, reduced.Height));
        Assert.All(reduced.Labels.Distinct(), v => Assert.Contains(v, TestLabels.Present));
        Assert.Equal(TestLabels.At(75, 75), reduced.At(25, 25));
        Assert.Equal(TestLabels.At(1425, 1050), reduced.At(475, 350));

        var regions = GeoJsonWriter.Polygonise(reduced, TestLabels.Classes, analysisToLevel0: 2);
        Assert.Equal([1, 3, 5], regions.Select(r => r.Label));
        // Blocks reach the right/bottom borders: the last partial reduced pixel is clipped back to 1500×1100.
        var all = regions.Select(r => r.Geometry.EnvelopeInternal).Aggregate((a, b) => { var e = new NetTopologySuite.Geometries.Envelope(a); e.ExpandToInclude(b); return e; });
        Assert.Equal(3000, all.MaxX);
        Assert.Equal(2200, all.MaxY);
    }

    [Fact]
    public void Polygonising_a_2048_square_blobby_mask_keeps_validity_and_areas()
    {
        // Smooth blobs of 5 classes, computed at 1024² and doubled (cheaper to generate).
        var small = new ProbabilityField(1024, 1024, 6).Argmax();
        var big = new byte[2048 * 2048];
        for (int y = 0; y < 2048; y++) for (int x = 0; x < 2048; x++) big[y * 2048 + x] = small[y / 2 * 1024 + x / 2];
        var reduced = ReducedLabels.Full(2048, 2048, big);
        var sw = Stopwatch.StartNew();
        var regions = GeoJsonWriter.Polygonise(reduced, TestLabels.Classes);
        output.WriteLine($"polygonised 2048² ({regions.Sum(r => r.Geometry.NumGeometries)} polygons, " +
                         $"{regions.Sum(r => r.Geometry.NumPoints)} points) in {sw.Elapsed.TotalSeconds:0.00}s");
        Assert.All(regions, r => Assert.True(r.Geometry.IsValid));
        // Areas survive simplification within a few percent.
        foreach (var r in regions)
        {
            long pixels = reduced.Labels.LongCount(l => l == r.Label);
            Assert.InRange(r.Geometry.Area, pixels * 0.97, pixels * 1.03);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Traced_outlines_of_noise_are_valid_and_cover_exactly_the_pixels(int seed)
    {
        // Random labels: every corner-touching, hole-in-hole and border case a tracer can meet.
        var rng = new Random(seed);
        var labels = new byte[64 * 48];
        for (int i = 0; i < labels.Length; i++) labels[i] = (byte)rng.Next(0, 4);
        var image = ReducedLabels.Full(64, 48, labels);
        var regions = GeoJsonWriter.Polygonise(image, TestLabels.Classes, tolerance: 0, minPolygonArea: 0);
        Assert.Equal([1, 2, 3], regions.Select(r => r.Label));
        foreach (var r in regions)
        {
            Assert.True(r.Geometry.IsValid);
            Assert.Equal(labels.Count(l => l == r.Label), r.Geometry.Area, 6);
            // Every pixel centre of the class is inside, every other one outside.
            var locator = new NetTopologySuite.Algorithm.Locate.IndexedPointInAreaLocator(r.Geometry);
            for (int y = 0; y < 48; y++)
                for (int x = 0; x < 64; x++)
                {
                    var inside = locator.Locate(new NetTopologySuite.Geometries.Coordinate(x + 0.5, y + 0.5)) == NetTopologySuite.Geometries.Location.Interior;
                    Assert.Equal(labels[y * 64 + x] == r.Label, inside);
                }
        }
    }

    [Fact]
    public void A_pocket_pinched_off_at_a_corner_becomes_a_hole_touching_the_shell_at_that_point()
    {
        // The background pixel at (1, 1) is closed in by label 1 except diagonally at corner (2, 2), where the two
        // label pixels (2, 1) and (1, 2) touch: the traced outline passes that corner twice.
        byte[] labels =
        [
            1, 1, 1, 0,
            1, 0, 1, 0,
            1, 1, 0, 0,
        ];
        var traced = LabelContours.Trace(ReducedLabels.Full(4, 3, labels), 1, new NetTopologySuite.Geometries.GeometryFactory());
        Assert.True(traced.IsValid);
        Assert.Equal(7, traced.Area);
        var polygon = Assert.IsType<NetTopologySuite.Geometries.Polygon>(Assert.Single(traced.Geometries));
        Assert.Equal(1, polygon.NumInteriorRings);
        Assert.Equal(1, NetTopologySuite.Algorithm.Area.OfRing(polygon.GetInteriorRingN(0).CoordinateSequence), 9);
        Assert.Contains(new NetTopologySuite.Geometries.Coordinate(2, 2), polygon.GetInteriorRingN(0).Coordinates);
        Assert.Contains(new NetTopologySuite.Geometries.Coordinate(2, 2), polygon.ExteriorRing.Coordinates);
    }

    // A hang guard, not a speed target (speed lives in benchmarks): before the per-polygon fix this never finished.
    [Theory]
    [InlineData(600, 800, 120.0)]
    public void Writing_speckled_labels_finishes_and_is_valid(int w, int h, double limitSeconds)
    {
        var labels = NoisyLabelMaps.Create("speckle", w, h, seed: 7);
        using var dir = new TempDir("geo");
        var sw = Stopwatch.StartNew();
        var regions = GeoJsonWriter.Write(dir.File("s.geojson"), labels, TestLabels.Classes, analysisToLevel0: 4);
        double seconds = sw.Elapsed.TotalSeconds;
        output.WriteLine($"wrote {w}×{h} speckle ({regions.Sum(r => r.Geometry.NumGeometries)} polygons, " +
                         $"{regions.Sum(r => r.Geometry.NumPoints)} points, {new FileInfo(dir.File("s.geojson")).Length / 1024} KiB) in {seconds:0.00}s");
        Assert.Equal(Enumerable.Range(1, 7), regions.Select(r => r.Label));
        Assert.All(regions, r => Assert.Equal("", new NetTopologySuite.Operation.Valid.IsValidOp(r.Geometry).ValidationError?.ToString() ?? ""));
        using var doc = JsonDocument.Parse(File.ReadAllText(dir.File("s.geojson")));
        Assert.Equal(7, doc.RootElement.GetProperty("features").GetArrayLength());
        Assert.True(seconds < limitSeconds, $"{seconds:0.0}s");
    }
}
