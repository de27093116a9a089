using WsiSegment.Core.Scores;
using WsiSegment.Stitching.Blending;
using WsiSegment.Tiling.Grid;

namespace WsiSegment.Processor.Inference;

/// <summary>The blending accumulator as the inferer's merger (its <see cref="BandAccumulator.Complete"/> is the finalize).</summary>
public sealed class AccumulatorMerger(BandAccumulator accumulator) : IPatchMerger
{
    public void Aggregate(PatchPosition at, ReadOnlySpan<float> scores, ScoreLayout layout) => accumulator.Aggregate(at.Row, at.Col, scores, layout);

    public void Skip(PatchPosition at) => accumulator.Skip(at.Row, at.Col);
}
