using System.Diagnostics;
using TorchSharp;
using WsiSegment.Core.Scores;
using WsiSegment.Model;
using WsiSegment.Model.Cards;
using WsiSegment.Model.Inference;
using WsiSegment.Model.Network;
using WsiSegment.Model.Runtime;
using WsiSegment.Tests.Model.Parity;
using WsiSegment.Tests.Support;
using static TorchSharp.torch;

namespace WsiSegment.Tests.Model.Inference;

public class InferenceEngineTests
{
    public InferenceEngineTests() => TorchRuntime.Initialise();

    /// <summary>A fresh ESPNet with non-trivial BatchNorm statistics, so folding has something to fold.</summary>
    internal static LoadedModel RandomModel(ModelArchitecture arch = ModelArchitecture.EspNet, int classes = 8, int seed = 3)
    {
        manual_seed(seed);
        var net = NetworkFactory.Create(arch, classes);
        // Held Scalars, not bare numbers: many tests call this while others collect (see HeldScalars).
        using var tenth = 0.1.ToScalar();
        using var half = 0.5.ToScalar();
        using (no_grad())
        {
            foreach (var (name, t) in net.state_dict())
            {
                using var scope = NewDisposeScope();
                if (name.EndsWith("running_mean")) t.copy_(randn_like(t).mul_(tenth));
                else if (name.EndsWith("running_var")) t.copy_(rand_like(t).add_(half, HeldScalars.One));
                else if (name.EndsWith("bn.weight") || name.EndsWith("br.weight")) t.copy_(rand_like(t).add_(half, HeldScalars.One));
                else if (name.EndsWith("bn.bias") || name.EndsWith("br.bias")) t.copy_(randn_like(t).mul_(tenth));
            }
        }
        net.eval();
        return new LoadedModel(net, ModelCard.Default(arch, classes), "random");
    }

    internal static byte[] RandomRgb(int n, int h, int w, int seed = 5)
    {
        var bytes = new byte[n * h * w * 3];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Theory]
    [InlineData(ModelArchitecture.EspNet)]
    [InlineData(ModelArchitecture.EspNetC)]
    public void Folded_batchnorm_gives_the_unfolded_outputs(ModelArchitecture arch)
    {
        using var model = RandomModel(arch);
        using var folded = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu", FoldBatchNorm = true });
        using var plain = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu", FoldBatchNorm = false });
        using var scope = NewDisposeScope();
        var x = randn(2, 3, 64, 96);
        var a = folded.Logits(x);
        var b = plain.Logits(x);
        using var _ = inference_mode();
        var reference = model.Network.call(x);
        Assert.True((a - b).abs().max().item<float>() < 1e-4, $"folded vs unfolded {(a - b).abs().max().item<float>()}");
        Assert.True((b - reference).abs().max().item<float>() < 1e-5);
    }

    [Theory]
    [InlineData(384, 384)]
    [InlineData(500, 333)]
    [InlineData(17, 9)]
    public void Outputs_have_the_input_size_for_any_height_and_width(int h, int w)
    {
        using var model = RandomModel();
        using var engine = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu" });
        var rgb = RandomRgb(1, h, w);
        var probs = new float[engine.Classes * h * w];
        engine.PredictProbabilities(rgb, 1, h, w, probs);
        for (int p = 0; p < h * w; p += 97)
        {
            float sum = 0;
            for (int c = 0; c < engine.Classes; c++) sum += probs[c * h * w + p];
            Assert.InRange(sum, 0.999f, 1.001f);
        }
        var labels = new byte[h * w];
        engine.PredictLabels(rgb, 1, h, w, labels);
        for (int p = 0; p < h * w; p += 89)
        {
            int best = 0;
            for (int c = 1; c < engine.Classes; c++) if (probs[c * h * w + p] > probs[best * h * w + p]) best = c;
            Assert.Equal(best, labels[p]);
        }
        using var logits = engine.Logits(randn(1, 3, h, w));
        Assert.Equal(new long[] { 1, 8, h, w }, logits.shape);
    }

    [Theory]
    [InlineData(ModelArchitecture.EspNet, 2, 64, 96)]
    [InlineData(ModelArchitecture.EspNet, 1, 17, 9)]   // padded and cropped back
    [InlineData(ModelArchitecture.EspNetC, 2, 40, 56)] // 1/8 outputs up-sampled
    public void Score_batches_hold_the_planar_results_pixel_interleaved(ModelArchitecture arch, int n, int h, int w)
    {
        using var model = RandomModel(arch);
        using var engine = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu" });
        var rgb = RandomRgb(n, h, w);
        int c = engine.Classes;
        var planar = new float[n * c * h * w];
        engine.PredictProbabilities(rgb, n, h, w, planar);

        using var probs = engine.Predict(rgb, n, h, w);
        using var logits = engine.Predict(rgb, n, h, w, ScoreKind.Logits);
        Assert.Equal((n, h, w, c, h * w * c), (probs.Count, probs.Height, probs.Width, probs.Classes, probs.ImageLength));
        for (int i = 0; i < n; i++)
        {
            var p = probs.Image(i);
            var l = logits.Image(i);
            for (int px = 0; px < h * w; px += 7)
            {
                float max = float.MinValue, sum = 0;
                for (int k = 0; k < c; k++) max = Math.Max(max, l[px * c + k]);
                for (int k = 0; k < c; k++) sum += MathF.Exp(l[px * c + k] - max);
                for (int k = 0; k < c; k++)
                {
                    Assert.Equal(planar[(i * c + k) * h * w + px], p[px * c + k], 1e-5f);
                    Assert.Equal(MathF.Exp(l[px * c + k] - max) / sum, p[px * c + k], 1e-5f);
                }
            }
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => probs.Image(n));
        probs.Dispose();
        Assert.Throws<ObjectDisposedException>(() => probs.Image(0));
    }

    [Fact]
    public void Bytes_are_normalised_per_the_card_including_bgr_order_and_scale()
    {
        using var random = RandomModel();
        var card = random.Card with { Normalisation = InputNormalisation.AuthorsCityscapes };
        using var model = new LoadedModel(random.Network, card, "random");
        using var engine = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu" });
        int n = 2, h = 24, w = 40;
        var rgb = RandomRgb(n, h, w);
        var probs = new float[n * engine.Classes * h * w];
        engine.PredictProbabilities(rgb, n, h, w, probs);

        using var scope = NewDisposeScope();
        var bgr = tensor(rgb, [n, h, w, 3]).to(float32).flip(3).permute(0, 3, 1, 2);
        var mean = tensor(new float[] { 72.3923111f, 82.90893555f, 73.15840149f }).reshape(1, 3, 1, 1);
        var std = tensor(new float[] { 45.3192215f, 46.15289307f, 44.91483307f }).reshape(1, 3, 1, 1);
        var x = (bgr - mean) / std / 255;
        var expected = engine.Logits(x).softmax(1).contiguous().data<float>().ToArray();
        double maxDiff = probs.Zip(expected).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(maxDiff < 1e-4, $"max |Δ| = {maxDiff}");
    }

    [SharedFact]
    public void Bf16_labels_agree_with_fp32_on_the_parity_input()
    {
        using var network = EspNetReferenceParityTests.LoadReference(ModelArchitecture.EspNet);
        using var model = new LoadedModel(network, ModelCard.Default(ModelArchitecture.EspNet, 20), "reference");
        using var fp32 = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu" });
        using var bf16 = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu", Precision = InferencePrecision.Bf16 });
        using var scope = NewDisposeScope();
        var x = tensor(ReferenceData.Floats($"{ReferenceData.Frame}_input_1x3x512x1024.f32.gz"), [1, 3, 512, 1024]);
        var a = fp32.Logits(x).argmax(1);
        var b = bf16.Logits(x).argmax(1);
        double agreement = a.eq(b).to(float32).mean().item<float>();
        Assert.True(agreement >= 0.99, $"bf16 agrees with fp32 on {agreement:P2} of pixels");
    }

    [Fact]
    public void Fp16_on_cpu_and_wrong_buffer_sizes_are_refused()
    {
        using var model = RandomModel();
        Assert.Throws<ArgumentException>(() => InferenceEngine.Create(model, new InferenceOptions { Device = "cpu", Precision = InferencePrecision.Fp16 }));
        using var engine = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu" });
        Assert.Throws<ArgumentException>(() => engine.PredictLabels(new byte[10], 1, 4, 4, new byte[16]));
        Assert.Throws<ArgumentException>(() => engine.PredictProbabilities(new byte[48], 1, 4, 4, new float[16]));
        engine.Dispose();
        Assert.Throws<ObjectDisposedException>(() => engine.PredictLabels(new byte[48], 1, 4, 4, new byte[16]));
    }
}
