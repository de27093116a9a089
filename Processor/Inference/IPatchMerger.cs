using WsiSegment.Core.Scores;
using WsiSegment.Tiling.Grid;

namespace WsiSegment.Processor.Inference;

/// <summary>
/// Where <see cref="PatchInferer"/> puts its results (MONAI's Merger): every grid position once, in the order the
/// patch source produced them, either with its scores or as skipped. Finishing the merge (MONAI's Finalize) is the
/// caller's, once the stream is over. Called from one task at a time.
/// </summary>
public interface IPatchMerger
{
    /// <summary>The scores of the patch at <paramref name="at"/>, laid out as <paramref name="layout"/> says (valid only during the call).</summary>
    void Aggregate(PatchPosition at, ReadOnlySpan<float> scores, ScoreLayout layout);

    /// <summary>A patch that was not run (too little tissue): background.</summary>
    void Skip(PatchPosition at);
}
