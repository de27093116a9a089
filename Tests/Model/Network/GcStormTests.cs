using WsiSegment.Core.Scores;
using WsiSegment.Model.Inference;
using WsiSegment.Model.Network;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Training;
using WsiSegment.Tests.Model.Inference;
using static TorchSharp.torch;

namespace WsiSegment.Tests.Model.Network;

/// <summary>
/// TorchSharp frees a temporary Scalar from the finalizer thread as soon as its handle has been read; a collection
/// during the native call then hands libtorch a freed Scalar (see HeldScalars). A thread that collects and runs
/// finalizers without pause makes that window wide: with TorchSharp's own Adam and BatchNorm forward these steps
/// failed within seconds ("Unknown scalar type"); ours hold every Scalar and must run clean and give the same numbers.
/// The storm is process-wide, so these run alone (in the serial collection), not beside other tests.
/// </summary>
[Collection(WsiSegment.Tests.Tiling.MemoryCollection.Name)]
public class GcStormTests
{
    public GcStormTests() => TorchRuntime.Initialise();

    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(15);

    private static async Task InStorm(Action work)
    {
        using var stop = new CancellationTokenSource();
        var storm = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        });
        try
        {
            work();
            await Task.Yield();
        }
        finally
        {
            stop.Cancel();
            await storm;
        }
    }

    [Fact]
    public async Task Training_steps_with_batch_norm_and_adam_survive_a_collection_storm()
    {
        manual_seed(3);
        using var net = new EspNet(5, p: 1, q: 1);
        net.train();
        using var optimiser = AdamOptimizer.For(net, new AdamOptions { LearningRate = 1e-3, WeightDecay = 1e-4 });
        using var x = randn(2, 3, 32, 32);
        using var y = randint(0, 5, [2, 32, 32], dtype: ScalarType.Int64);
        var losses = new List<float>();
        await InStorm(() =>
        {
            // Runs for a fixed time, not a fixed count: the storm slows each step by a varying amount.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.Elapsed < Budget || losses.Count < 10)
            {
                using var scope = NewDisposeScope();
                optimiser.ZeroGrad();
                var loss = nn.functional.cross_entropy(net.call(x), y);
                loss.backward();
                optimiser.Step();
                losses.Add(loss.item<float>());
            }
        });
        Assert.All(losses, l => Assert.True(float.IsFinite(l)));
        Console.WriteLine($"{losses.Count} training steps in the storm");
        Assert.True(losses[^1] < losses[0], $"loss went from {losses[0]} to {losses[^1]}");
    }

    [Fact]
    public async Task Inference_gives_the_same_logits_during_a_collection_storm()
    {
        using var model = InferenceEngineTests.RandomModel();
        int n = 2, h = 64, w = 64;
        var rgb = InferenceEngineTests.RandomRgb(n, h, w);
        float[] expected;
        using (var quiet = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu" }))
        using (var batch = quiet.Predict(rgb, n, h, w, ScoreKind.Logits))
            expected = batch.Image(0).ToArray();
        float worst = 0;
        await InStorm(() =>
        {
            // Folding the BatchNorms runs in the storm too.
            using var engine = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu" });
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (int i = 0; clock.Elapsed < Budget || i < 10; i++)
            {
                using var batch = engine.Predict(rgb, n, h, w, ScoreKind.Logits);
                var got = batch.Image(0);
                for (int j = 0; j < got.Length; j++) worst = Math.Max(worst, Math.Abs(got[j] - expected[j]));
            }
        });
        Assert.True(worst < 1e-4f, $"logits drifted by {worst} under the storm");
    }
}
