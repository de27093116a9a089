using NetVips;
using TorchSharp;
using WsiSegment.Model;
using WsiSegment.Model.Cards;
using WsiSegment.Model.Inference;
using WsiSegment.Model.Network;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Weights;
using WsiSegment.Tests.Model.Inference;
using WsiSegment.Tests.Support;
using static TorchSharp.torch;

namespace WsiSegment.Tests.Model.Network;

/// <summary>bf16 on the CPU: convolutions with the channel counts libtorch gets wrong are padded, and give fp32's values and labels.</summary>
public class PaddedConvInputTests
{
    public PaddedConvInputTests() => TorchRuntime.Initialise();

    [Theory]
    [InlineData(1, 3, 1)]    // the decoder's ESP branches with fewer than 10 classes
    [InlineData(1, 1, 1)]
    [InlineData(19, 3, 1)]   // level 2's downsampler
    [InlineData(24, 3, 1)]   // the decoder's last CBR with 8 classes
    [InlineData(25, 3, 4)]   // level 3's dilated branches
    [InlineData(131, 3, 1)]  // level 3's downsampler
    public void Padded_bf16_convolutions_give_fp32_values(int channels, int kernel, int dilation)
    {
        manual_seed(channels * 10 + kernel);
        using var layer = new ConvLayer(channels, 12, kernel, 1, dilation);
        using var cbr = new ConvBnPrelu(channels, 12, kernel);
        foreach (var module in new nn.Module<Tensor, Tensor>[] { layer, cbr })
        {
            module.eval();
            using var scope = NewDisposeScope();
            using var mode = inference_mode();
            var x = ChannelsLast.Of(randn(1, channels, 40, 40));
            var expected = module.call(x);
            module.to(ScalarType.BFloat16);
            var conv = module is ConvLayer l ? l.Conv : ((ConvBnPrelu)module).Conv;
            Assert.Equal(PaddedConvInput.SafeChannels(channels, kernel) != channels, PaddedConvInput.PadWeights(conv));
            Assert.Equal(PaddedConvInput.SafeChannels(channels, kernel), conv.weight!.shape[1]);
            var actual = module.call(x.to(ScalarType.BFloat16)).to(ScalarType.Float32);
            double rel = (actual - expected).abs().max().item<float>() / expected.abs().max().item<float>();
            Assert.True(rel < 0.02, $"{module.GetName()} {channels} channels, k{kernel} d{dilation}: relative error {rel:E2}");
        }
    }

    [Fact]
    public void The_bundled_models_bf16_labels_agree_with_fp32_on_the_bundled_slide()
    {
        using var model = Checkpoint.Load(TestModels.Demo);
        const int side = 512;
        using var slide = Image.NewFromFile(Path.Combine(Repo.Root, "slides", "phantom-5.tif"));
        using var crop = slide.Crop(600, 400, side, side);
        var rgb = crop.WriteToMemory<byte>();
        var fp32 = new byte[side * side];
        var bf16 = new byte[side * side];
        using (var e = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu" }))
            e.PredictLabels(rgb, 1, side, side, fp32);
        using (var e = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu", Precision = InferencePrecision.Bf16 }))
            e.PredictLabels(rgb, 1, side, side, bf16);
        double agreement = fp32.Zip(bf16).Count(p => p.First == p.Second) / (double)fp32.Length;
        Assert.True(agreement >= 0.995, $"bf16 labels agree with fp32 on {agreement:P2} of pixels");
        Assert.True(fp32.Distinct().Count() > 2, "the crop should hold several classes");
    }

    [Fact]
    public void A_model_with_an_odd_class_count_refuses_bf16_on_the_cpu_and_auto_keeps_fp32()
    {
        using var model = new LoadedModel(NetworkFactory.Create(ModelArchitecture.EspNet, 5), ModelCard.Default(ModelArchitecture.EspNet, 5), "five classes");
        var e = Assert.Throws<ArgumentException>(() => InferenceEngine.Create(model, new InferenceOptions { Device = "cpu", Precision = InferencePrecision.Bf16 }));
        Assert.Contains("odd channel counts", e.Message);
        using var auto = InferenceEngine.Create(model, new InferenceOptions { Device = "cpu", Precision = InferencePrecision.Auto });
        Assert.Equal(InferencePrecision.Fp32, auto.PrecisionDecision!.Chosen);
        Assert.Contains("odd channel counts", auto.PrecisionDecision.Reason);
        var labels = new byte[32 * 32];
        auto.PredictLabels(InferenceEngineTests.RandomRgb(1, 32, 32), 1, 32, 32, labels);
        Assert.Equal(InferencePrecision.Fp32, auto.Precision);
    }
}
