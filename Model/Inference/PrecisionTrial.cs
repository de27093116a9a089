namespace WsiSegment.Model.Inference;

/// <summary>
/// The timing half of `--precision auto`: the stream's own batches, computed in blocks of <see cref="PerBlock"/> in
/// the order fp32, bf16, bf16, fp32, each timed as the stream runs it (reading and stitching beside it, as they will
/// be for the rest of the slide); the fastest batch of each precision counts, scaled to the first batch's pixels.
/// Real batches rather than repeats of one: nothing is computed twice, and a first batch timed alone misjudges a
/// stream whose other stages share the cores. Mirrored, so that load rising or falling over the trial favours neither.
/// </summary>
public sealed class PrecisionTrial
{
    public const int PerBlock = 2;
    private static readonly InferencePrecision[] Blocks = [InferencePrecision.Fp32, InferencePrecision.Bf16, InferencePrecision.Bf16, InferencePrecision.Fp32];

    private readonly double _agreement;
    private readonly int _images, _height, _width;
    private double? _best32, _best16;
    private int _fp32Batches, _bf16Batches;

    /// <param name="agreement">The label agreement measured on the first batch.</param>
    /// <param name="images">The first batch's shape: every time is scaled to its pixel count.</param>
    public PrecisionTrial(double agreement, int images, int height, int width)
    {
        _agreement = agreement;
        (_images, _height, _width) = (images, height, width);
    }

    public static int Batches => Blocks.Length * PerBlock;

    public int BatchesDone => _fp32Batches + _bf16Batches;

    public bool Complete => BatchesDone >= Batches;

    /// <summary>The precision the next batch runs in.</summary>
    public InferencePrecision Next => Blocks[Math.Min(BatchesDone / PerBlock, Blocks.Length - 1)];

    public void Record(InferencePrecision ran, double milliseconds, long pixels)
    {
        if (pixels <= 0) throw new ArgumentOutOfRangeException(nameof(pixels), pixels, "a batch has pixels");
        double scaled = milliseconds * ((double)_images * _height * _width / pixels);
        if (ran == InferencePrecision.Bf16) { _best16 = Math.Min(_best16 ?? double.MaxValue, scaled); _bf16Batches++; }
        else { _best32 = Math.Min(_best32 ?? double.MaxValue, scaled); _fp32Batches++; }
    }

    public PrecisionComparison Comparison =>
        new(_best32 is { } a ? Math.Round(a, 2) : null, _best16 is { } b ? Math.Round(b, 2) : null, _agreement, _images, _height, _width);

    /// <summary>The decision once the trial is complete.</summary>
    public PrecisionDecision Decide() => PrecisionProbe.Decide(Comparison);

    /// <summary>For a slide that ended before the trial did: fp32, with what ran.</summary>
    public PrecisionDecision Unfinished() => new(InferencePrecision.Fp32, Comparison,
        $"the slide ended after {BatchesDone} of the trial's {Batches} batches ({_fp32Batches} in fp32, {_bf16Batches} in bf16); nothing decided");
}
