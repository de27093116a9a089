using WsiSegment.Core.Blending;
using WsiSegment.Core.Grid;
using WsiSegment.Core.Scores;
using WsiSegment.Stitching.Blending;

namespace WsiSegment.Tests.Stitching;

public class BandAccumulatorTests
{
    private static readonly ProbabilityField Field = new(1000, 700, 4);

    private static (ImageSink Sink, ClassPixelCounts Counts, BandAccumulator Acc) Stitch(
        ProbabilityField field, TileLayout g, BlendMode mode, ScoreKind scores = ScoreKind.Probabilities)
    {
        var sink = new ImageSink(field.Width, field.Height);
        var acc = new BandAccumulator(g, field.Classes, sink, mode);
        var layout = new ScoreLayout(scores, field.Classes);
        var junk = new Random(1);
        for (int r = 0; r < g.Rows; r++)
            for (int c = 0; c < g.Cols; c++)
                acc.Aggregate(r, c, field.Tile(g, r, c, junk, logits: scores == ScoreKind.Logits), layout);
        return (sink, acc.Complete(), acc);
    }

    /// <summary>
    /// The stitched labels are the field's argmax, except where the carry strip's half-precision mantissas (relative
    /// 2⁻¹¹ of a pixel's largest score, on the upper tile row's share) can tip a near-tie: every differing pixel must have its two best classes within
    /// 0.1 % of their sum, and such pixels must be rare.
    /// </summary>
    private static void AssertArgmaxUpToStripRounding(ProbabilityField field, byte[] labels)
    {
        var truth = field.Argmax();
        Assert.Equal(truth.Length, labels.Length);
        int differ = 0;
        for (int i = 0; i < truth.Length; i++)
        {
            if (truth[i] == labels[i]) continue;
            differ++;
            int x = i % field.Width, y = i / field.Width;
            float best = field[truth[i], x, y], got = field[labels[i], x, y];
            Assert.True(best - got <= 1e-3f * (best + got),
                $"pixel ({x}, {y}) labelled {labels[i]} (p = {got}) instead of {truth[i]} (p = {best}): not a near-tie");
        }
        Assert.True(differ <= truth.Length / 10_000, $"{differ} of {truth.Length} pixels differ from the field's argmax");
    }

    [Theory]
    [InlineData(BlendMode.Gaussian, ScoreKind.Probabilities)]
    [InlineData(BlendMode.Cosine, ScoreKind.Probabilities)]
    [InlineData(BlendMode.Average, ScoreKind.Probabilities)]
    [InlineData(BlendMode.Crop, ScoreKind.Probabilities)]
    [InlineData(BlendMode.Gaussian, ScoreKind.Logits)]
    [InlineData(BlendMode.Crop, ScoreKind.Logits)]
    public void Overlapping_non_divisible_tiles_give_back_the_argmax_of_the_field(BlendMode mode, ScoreKind scores)
    {
        var g = new TileLayout(1000, 700, 256, 64);
        Assert.Equal((5, 4), (g.Cols, g.Rows)); // 1000 = 4·192 + 232: the last column sticks out of the image

        var (sink, counts, _) = Stitch(Field, g, mode, scores);

        Assert.All(sink.Writes, n => Assert.Equal(1, n));
        AssertArgmaxUpToStripRounding(Field, sink.Labels);
        for (int k = 0; k < 4; k++)
            Assert.Equal(sink.Labels.LongCount(l => l == k), counts.Counts[k]);
        Assert.Equal(1000L * 700, counts.Total);
    }

    [Fact]
    public void Stitched_into_a_spool_and_a_pyramid_the_labels_survive_unchanged()
    {
        using var dir = new WsiSegment.Tests.Support.TempDir("e2e");
        var g = new TileLayout(1000, 700, 256, 64);
        var layout = new ScoreLayout(ScoreKind.Probabilities, 4);
        using var spool = WsiSegment.Stitching.Spooling.LabelSpool.Create(dir.File("l.u8"), 1000, 700);
        var acc = new BandAccumulator(g, 4, spool);
        var junk = new Random(2);
        for (int r = 0; r < g.Rows; r++)
            for (int c = 0; c < g.Cols; c++) acc.Aggregate(r, c, Field.Tile(g, r, c, junk), layout);
        acc.Complete();
        var stitched = File.ReadAllBytes(spool.Path);
        AssertArgmaxUpToStripRounding(Field, stitched);

        var files = new WsiSegment.Stitching.Output.PyramidWriter().Write(spool, dir.File("s"),
            new WsiSegment.Stitching.Output.MaskOutputOptions { Mpp = 0.5, Classes = TestLabels.Classes, Outputs = WsiSegment.Stitching.Output.MaskOutputs.Mask });
        using var back = NetVips.Image.Tiffload(files.Mask!);
        Assert.Equal(stitched, back.WriteToMemory<byte>());
    }

    [Theory]
    [InlineData(BlendMode.Gaussian)]
    [InlineData(BlendMode.Average)]
    public void Blending_logits_equals_blending_their_softmax_where_tiles_disagree(BlendMode mode)
    {
        // Every tile has its own random scores, so the blend (not just one tile) decides each overlap pixel.
        var g = new TileLayout(700, 500, 128, 48);
        var rng = new Random(9);
        var fromLogits = new ImageSink(700, 500);
        var fromProbs = new ImageSink(700, 500);
        var a = new BandAccumulator(g, 8, fromLogits, mode);
        var b = new BandAccumulator(g, 8, fromProbs, mode);
        var logits = new float[128 * 128 * 8];
        var probs = new float[logits.Length];
        for (int r = 0; r < g.Rows; r++)
            for (int c = 0; c < g.Cols; c++)
            {
                for (int i = 0; i < logits.Length; i++) logits[i] = (float)(rng.NextDouble() * 6 - 3);
                for (int p = 0; p < 128 * 128; p++)
                {
                    var l = logits.AsSpan(p * 8, 8);
                    float max = float.MinValue, sum = 0;
                    foreach (float x in l) max = Math.Max(max, x);
                    for (int k = 0; k < 8; k++) sum += probs[p * 8 + k] = MathF.Exp(l[k] - max);
                    for (int k = 0; k < 8; k++) probs[p * 8 + k] /= sum;
                }
                a.Aggregate(r, c, logits, new ScoreLayout(ScoreKind.Logits, 8));
                b.Aggregate(r, c, probs, new ScoreLayout(ScoreKind.Probabilities, 8));
            }
        a.Complete();
        b.Complete();
        int same = fromLogits.Labels.Zip(fromProbs.Labels).Count(p => p.First == p.Second);
        // Rounding differs (p·w vs e·w/Σe): only near-ties may flip.
        Assert.True(same >= 0.9999 * fromLogits.Labels.Length, $"{fromLogits.Labels.Length - same} of {fromLogits.Labels.Length} differ");
        Assert.Contains(fromLogits.Labels, l => l == 7);
    }

    [Theory]
    [InlineData(1000, 700, 256, 0)]    // no overlap
    [InlineData(1000, 700, 256, 128)]  // overlap = half the tile
    [InlineData(200, 150, 256, 64)]    // image smaller than one tile
    [InlineData(257, 449, 256, 64)]    // one pixel past a tile; a row that ends just past the stride
    public void Other_grids_reconstruct_too(int w, int h, int tile, int overlap)
    {
        var field = new ProbabilityField(w, h, 3);
        var g = new TileLayout(w, h, tile, overlap);
        var (sink, _, _) = Stitch(field, g, BlendMode.Gaussian);
        Assert.All(sink.Writes, n => Assert.Equal(1, n));
        AssertArgmaxUpToStripRounding(field, sink.Labels);
    }

    [Fact]
    public void Open_state_is_a_bottom_strip_and_a_right_strip_only()
    {
        var g = new TileLayout(1000, 700, 256, 64);
        var acc = new BandAccumulator(g, 4, new ImageSink(1000, 700));
        Assert.Equal(4L * 64 * 1000 + 4L * 256 * 64, acc.CarryValues);
        // The bottom strip in halves plus an exponent per pixel, the right strip in floats; everything else is two
        // tile rows of scores, the weights and one block of labels: far below the probability map.
        Assert.True(acc.BufferBytes < (2L * 4 + 1) * 64 * 1000 + 4L * 4 * (256 * 64 + 4 * 256) + 256 * 256 + 4096, $"{acc.BufferBytes} bytes");
    }

    [Fact]
    public void Skipped_tiles_leave_background_where_no_tile_ran()
    {
        // Everything is class 2, except what only skipped tiles cover.
        var field = new ProbabilityField(1000, 700, 3);
        var g = new TileLayout(1000, 700, 256, 64);
        var layout = new ScoreLayout(ScoreKind.Probabilities, 3);
        var sink = new ImageSink(1000, 700);
        var acc = new BandAccumulator(g, 3, sink);
        var tile = new float[3 * 256 * 256];
        for (int p = 0; p < 256 * 256; p++) tile[p * 3 + 2] = 1f;
        for (int r = 0; r < g.Rows; r++)
            for (int c = 0; c < g.Cols; c++)
                if (r == 1 && c == 2) acc.Skip(r, c); else acc.Aggregate(r, c, tile, layout);
        var counts = acc.Complete();

        // Tile (1, 2) covers x in [384, 640), y in [192, 448); its neighbours cover its first and last 64 px.
        for (int y = 0; y < 700; y++)
            for (int x = 0; x < 1000; x++)
            {
                bool onlySkipped = x >= 384 + 64 && x < 640 - 64 && y >= 192 + 64 && y < 448 - 64;
                Assert.Equal(onlySkipped ? 0 : 2, sink.Labels[y * 1000 + x]);
            }
        Assert.Equal(128L * 128, counts.Counts[0]);
        Assert.Equal(0L, counts.Counts[1]);
        _ = field;
    }

    [Fact]
    public void All_skipped_is_all_background()
    {
        var g = new TileLayout(600, 500, 256, 64);
        var sink = new ImageSink(600, 500);
        var acc = new BandAccumulator(g, 8, sink);
        for (int r = 0; r < g.Rows; r++)
            for (int c = 0; c < g.Cols; c++) acc.Skip(r, c);
        Assert.Equal(600L * 500, acc.Complete().Counts[0]);
        Assert.All(sink.Writes, n => Assert.Equal(1, n));
        Assert.All(sink.Labels, l => Assert.Equal(0, l));
    }

    [Fact]
    public void Out_of_order_double_and_late_calls_throw()
    {
        var g = new TileLayout(400, 300, 256, 64);
        var layout = new ScoreLayout(ScoreKind.Probabilities, 2);
        var tile = new float[2 * 256 * 256];
        var acc = new BandAccumulator(g, 2, new ImageSink(400, 300));

        Assert.Contains("expected tile (0, 0), got (0, 1)", Assert.Throws<InvalidOperationException>(() => acc.Aggregate(0, 1, tile, layout)).Message);
        acc.Aggregate(0, 0, tile, layout);
        Assert.Throws<InvalidOperationException>(() => acc.Aggregate(0, 0, tile, layout)); // twice
        Assert.Throws<InvalidOperationException>(() => acc.Skip(1, 0));           // skipping ahead
        Assert.Throws<ArgumentException>(() => acc.Aggregate(0, 1, new float[10], layout));
        Assert.Contains("(0, 1) of 2×2 has not been", Assert.Throws<InvalidOperationException>(() => acc.Complete()).Message);
        acc.Skip(0, 1);
        acc.Aggregate(1, 0, tile, layout);
        acc.Skip(1, 1);
        Assert.Null(acc.Next);
        Assert.Contains("past the end", Assert.Throws<InvalidOperationException>(() => acc.Skip(2, 0)).Message);
        acc.Complete();
        Assert.Throws<InvalidOperationException>(() => acc.Complete());
        Assert.Throws<InvalidOperationException>(() => acc.Aggregate(0, 0, tile, layout));
    }

    [Theory]
    [InlineData(512, 64)]
    [InlineData(128, 64)] // overlap may be half the tile
    [InlineData(120, 64)] // but no more
    public void Bad_geometry_is_refused(int tile, int overlap)
    {
        if (2 * overlap > tile) Assert.Throws<ArgumentOutOfRangeException>(() => new TileLayout(100, 100, tile, overlap));
        else Assert.Equal(1, new TileLayout(100, 100, tile, overlap).Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BandAccumulator(new TileLayout(100, 100, 256, 64), 257, new NullSink()));
    }

    private sealed class NullSink : ILabelSink
    {
        public void Write(int x, int y, int width, int height, ReadOnlySpan<byte> labels) { }
    }
}
