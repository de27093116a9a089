using System.Diagnostics;
using WsiSegment.Model.Inference;
using WsiSegment.Model.Runtime;

namespace WsiSegment.Tests.Model.Inference;

/// <summary>Process-wide memory is measured, so this runs alone (no other test allocating meanwhile).</summary>
[Collection(WsiSegment.Tests.Tiling.MemoryCollection.Name)]
public class InferenceEngineMemoryTests
{
    public InferenceEngineMemoryTests() => TorchRuntime.Initialise();

    [Fact]
    public void Memory_stays_flat_over_repeated_forwards()
    {
        using var model = InferenceEngineTests.RandomModel();
        using var engine = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu" });
        int n = 2, h = 64, w = 64;
        var rgb = InferenceEngineTests.RandomRgb(n, h, w);
        var probs = new float[n * engine.Classes * h * w];
        for (int i = 0; i < 10; i++) engine.PredictProbabilities(rgb, n, h, w, probs);
        GC.Collect();
        long before = Process.GetCurrentProcess().WorkingSet64;
        for (int i = 0; i < 60; i++) engine.PredictProbabilities(rgb, n, h, w, probs);
        GC.Collect();
        long after = Process.GetCurrentProcess().WorkingSet64;
        // A leak of the inputs and outputs alone would be 60 × (96 KiB + 256 KiB); activations far more.
        Assert.True(after - before < 8 << 20, $"working set grew by {(after - before) >> 10} KiB over 60 forwards");
    }
}
