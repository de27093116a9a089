using WsiSegment.Core.Scores;
using WsiSegment.Model;
using WsiSegment.Model.Cards;
using WsiSegment.Model.Inference;
using WsiSegment.Model.Network;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Weights;
using WsiSegment.Tests.Support;
using static TorchSharp.torch;

namespace WsiSegment.Tests.Model;

public class DenormalModeTests
{
    // 1e-40 is subnormal in float32 (the smallest normal is 1.2e-38); doubled it stays subnormal unless flushed.
    private const float Subnormal = 1e-40f;

    /// <summary>
    /// Counts the elements of 2·x that stay non-zero for x full of subnormals: zero when every thread that took part
    /// in the parallel multiply (the caller and its OpenMP workers) flushes denormals. 4 M elements are split over
    /// all intra-op threads.
    /// </summary>
    private static long SurvivingSubnormals()
    {
        using var scope = NewDisposeScope();
        var x = full(1 << 22, Subnormal, float32);
        return (x * 2f).count_nonzero().item<long>();
    }

    /// <summary>Runs <paramref name="body"/> on a new thread that starts with denormals kept, as a thread not made by us would.</summary>
    private static T OnThreadKeepingDenormals<T>(Func<T> body, bool final = false)
    {
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                Assert.True(DenormalMode.SetOnThisThread(flush: false, final));
                result = body();
            }
            catch (Exception e) { error = e; }
        });
        thread.Start();
        thread.Join();
        if (error is not null) throw new AggregateException(error);
        return result;
    }

    [Fact]
    public void A_thread_that_already_ran_kernels_and_its_workers_flush_denormals_once_prepared()
    {
        TorchRuntime.Initialise();
        Assert.True(get_num_threads() >= 1);
        var (before, after, flushing) = OnThreadKeepingDenormals(() =>
        {
            // This thread's OpenMP workers are created here, by the first parallel kernel, with denormals kept.
            long kept = SurvivingSubnormals();
            bool ok = DenormalMode.PrepareThisThread();
            return (kept, SurvivingSubnormals(), ok);
        });
        Assert.Equal(1L << 22, before); // the set-up really computes with subnormals
        Assert.True(flushing);
        Assert.Equal(0, after); // every thread of the team flushes now, the workers created before included
    }

    [Fact]
    public void The_inference_engine_flushes_denormals_on_the_thread_that_calls_it()
    {
        TorchRuntime.Initialise();
        using var model = new LoadedModel(NetworkFactory.Create(ModelArchitecture.EspNet, 8, 2, 1), ModelCard.Default(ModelArchitecture.EspNet, 8, 2, 1), "test");
        using var engine = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu" });
        var (before, after) = OnThreadKeepingDenormals(() =>
        {
            long kept = SurvivingSubnormals();
            var rgb = new byte[64 * 64 * 3];
            using (engine.Predict(rgb, 1, 64, 64, ScoreKind.Logits)) { }
            return (kept, SurvivingSubnormals());
        });
        Assert.Equal(1L << 22, before);
        Assert.Equal(0, after);
    }

    /// <summary>
    /// A fresh network is positively homogeneous (no biases, BatchNorm at mean 0 / variance 1 / shift 0, PReLU), so
    /// an input of subnormal floats keeps every activation subnormal, the worst case trained weights approach: with
    /// denormals kept the whole forward computes on them; flushed, every layer of it on every thread sees zeros. The
    /// input is made from bit patterns, as arithmetic on a flushing thread would zero it already. (How fast each way
    /// runs is the benchmark's business: `bench model` prints trained/fresh.)
    /// </summary>
    [Fact]
    public void A_forward_whose_activations_would_all_be_subnormal_computes_on_zeros_instead()
    {
        TorchRuntime.Initialise();
        manual_seed(5);
        using var model = new LoadedModel(NetworkFactory.Create(ModelArchitecture.EspNet, 8, 2, 3), ModelCard.Default(ModelArchitecture.EspNet, 8, 2, 3), "fresh");
        const int side = 256;
        var (subnormal, normal) = Inputs(side);
        using var xs = tensor(subnormal, [1, 3, side, side]);
        using var xn = tensor(normal, [1, 3, side, side]);

        long nonZero = OnThreadKeepingDenormals(() =>
        {
            using var kept = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu" });
            using var y = kept.Logits(xs);
            Assert.True(y.abs().max().item<float>() < 1.2e-38f);
            return y.count_nonzero().item<long>();
        }, final: true);
        Assert.True(nonZero > side * side, $"only {nonZero} non-zero logits: the input does not keep the network subnormal");

        var (flushedNonZero, normalNonZero) = OnThreadKeepingDenormals(() =>
        {
            using var engine = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu" });
            using var ys = engine.Logits(xs);
            using var yn = engine.Logits(xn);
            return (ys.count_nonzero().item<long>(), yn.count_nonzero().item<long>());
        });
        Assert.Equal(0, flushedNonZero);
        Assert.Equal(8L * side * side, normalNonZero);
    }

    /// <summary>Subnormal floats from random mantissa bits and signs, and normal floats in [1, 2) made from the same bits.</summary>
    private static (float[] Subnormal, float[] Normal) Inputs(int side)
    {
        var rng = new Random(1);
        int n = 3 * side * side;
        var subnormal = new float[n];
        var normal = new float[n];
        for (int i = 0; i < n; i++)
        {
            int bits = (rng.Next(2) << 31) | rng.Next(1, 1 << 23);
            subnormal[i] = BitConverter.Int32BitsToSingle(bits);
            normal[i] = BitConverter.Int32BitsToSingle(bits | (127 << 23));
        }
        return (subnormal, normal);
    }

    /// <summary>Flushing changes values below 1.2e-38 only: the trained model's labels stay as they are with denormals kept.</summary>
    [Fact]
    public void Flushing_denormals_leaves_the_trained_models_labels_as_they_were()
    {
        TorchRuntime.Initialise();
        using var trained = Checkpoint.Load(TestModels.Demo);
        const int side = 256;
        var rgb = TissueLikePixels(side);
        var flushed = new byte[side * side];
        using (var engine = InferenceEngine.Create(trained, new InferenceOptions { Device = "cpu" }))
            engine.PredictLabels(rgb, 1, side, side, flushed);
        Assert.True(DenormalMode.IsFlushingOnThisThread());

        var kept = OnThreadKeepingDenormals(() =>
        {
            using var engine = InferenceEngine.Create(trained, new InferenceOptions { Device = "cpu" });
            Assert.Equal(1L << 22, SurvivingSubnormals()); // denormals really kept on this thread and its workers
            var labels = new byte[side * side];
            engine.PredictLabels(rgb, 1, side, side, labels);
            return labels;
        }, final: true);
        int differ = flushed.Zip(kept).Count(p => p.First != p.Second);
        Assert.True(differ <= flushed.Length / 1000, $"{differ} of {flushed.Length} labels changed by flushing denormals");
        Assert.True(flushed.Distinct().Count() > 1, "the trained model should find more than one class in tissue-like pixels");
    }

    /// <summary>Pinkish tissue-like pixels with structure (smooth blobs and noise), deterministic.</summary>
    private static byte[] TissueLikePixels(int side)
    {
        var rng = new Random(3);
        var rgb = new byte[side * side * 3];
        for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++)
        {
            double blob = Math.Sin(x / 23.0) * Math.Cos(y / 17.0);
            int i = (y * side + x) * 3;
            rgb[i] = (byte)Math.Clamp(200 + 40 * blob + rng.Next(-20, 20), 0, 255);
            rgb[i + 1] = (byte)Math.Clamp(120 + 60 * blob + rng.Next(-20, 20), 0, 255);
            rgb[i + 2] = (byte)Math.Clamp(170 + 30 * blob + rng.Next(-20, 20), 0, 255);
        }
        return rgb;
    }
}
