using NetTopologySuite.Operation.Valid;
using WsiSegment.Stitching.Output;

namespace WsiSegment.Tests.Stitching;

/// <summary>The GeoJSON benchmark's worst-case maps, small: valid output that covers the kept pixels exactly, and
/// the per-class polygon cap keeping the largest polygons and counting the rest.</summary>
public class NoisyMapPolygonTests
{
    public static TheoryData<string> Maps() => new(NoisyLabelMaps.Names);

    [Theory]
    [MemberData(nameof(Maps))]
    public void Worst_case_maps_give_valid_multipolygons_inside_the_image(string map)
    {
        var labels = NoisyLabelMaps.Create(map, 192, 160, seed: 3);
        foreach (double tolerance in new[] { 0.0, 1.0 })
        {
            var regions = GeoJsonWriter.Polygonise(labels, TestLabels.Classes, analysisToLevel0: 2, tolerance: tolerance);
            foreach (var r in regions)
            {
                Assert.Null(new IsValidOp(r.Geometry).ValidationError);
                var e = r.Geometry.EnvelopeInternal;
                Assert.True(e.MinX >= 0 && e.MinY >= 0 && e.MaxX <= 384 && e.MaxY <= 320, $"{map} class {r.Label}: envelope {e}");
            }
        }
    }

    [Fact]
    public void Without_speckle_removal_every_pixel_is_covered_once()
    {
        var labels = NoisyLabelMaps.Create("salt-multi", 96, 80, seed: 5);
        var regions = GeoJsonWriter.Polygonise(labels, TestLabels.Classes, tolerance: 0, minPolygonArea: 0);
        foreach (var r in regions)
        {
            Assert.True(r.Geometry.IsValid);
            Assert.Equal(labels.Labels.Count(l => l == r.Label), r.Geometry.Area, 6);
        }
    }

    [Fact]
    public void A_class_too_fragmented_for_vector_output_keeps_its_largest_polygons_and_counts_the_rest()
    {
        // Class 1: one 20×20 square, one 10×10, then forty 3×3 specks (isolated by background).
        var labels = new byte[200 * 200];
        void Square(int x0, int y0, int s) { for (int y = y0; y < y0 + s; y++) for (int x = x0; x < x0 + s; x++) labels[y * 200 + x] = 1; }
        Square(10, 10, 20);
        Square(50, 10, 10);
        for (int i = 0; i < 40; i++) Square(10 + (i % 10) * 6, 60 + (i / 10) * 6, 3);
        var regions = GeoJsonWriter.Polygonise(ReducedLabels.Full(200, 200, labels), TestLabels.Classes, analysisToLevel0: 2, maxPolygonsPerClass: 2);
        var r = Assert.Single(regions);
        Assert.Equal(2, r.Geometry.NumGeometries);
        Assert.Equal((400 + 100) * 4, r.Geometry.Area, 6);
        Assert.Equal(40, r.PolygonsDropped);
        Assert.Equal(40 * 9 * 4, r.AreaDropped, 6);
    }
}
