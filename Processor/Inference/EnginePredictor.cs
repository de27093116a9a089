using WsiSegment.Core.Scores;
using WsiSegment.Model.Inference;

namespace WsiSegment.Processor.Inference;

/// <summary>The model's inference engine as the inferer's network stage: logits, channels-last, as the stitcher blends them.</summary>
public sealed class EnginePredictor(InferenceEngine engine) : IPatchPredictor
{
    public IPatchScores Predict(ReadOnlySpan<byte> rgb, int count, int tile) =>
        new Scores(engine.Predict(rgb, count, tile, tile, ScoreKind.Logits));

    private sealed class Scores(ScoreBatch batch) : IPatchScores
    {
        public int Count => batch.Count;
        public ScoreLayout Layout => batch.Layout;
        public ReadOnlySpan<float> Image(int index) => batch.Image(index);
        public void Dispose() => batch.Dispose();
    }
}
