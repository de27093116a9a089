using WsiSegment.Model.Network;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Weights;
using WsiSegment.Tests.Support;
using static TorchSharp.torch;

namespace WsiSegment.Tests.Model.Parity;

/// <summary>
/// Our ESPNet against the authors' PyTorch code on their released Cityscapes weights (../shared/espnet-reference):
/// the weights go through our safetensors reader, the input is theirs, the outputs must match.
/// </summary>
public class EspNetReferenceParityTests
{
    public EspNetReferenceParityTests() => TorchRuntime.Initialise();

    private static Tensor ReferenceInput() =>
        tensor(ReferenceData.Floats($"{ReferenceData.Frame}_input_1x3x512x1024.f32.gz"), [1, 3, 512, 1024]);

    internal static SegmentationNetwork LoadReference(ModelArchitecture arch)
    {
        string file = arch == ModelArchitecture.EspNet ? "espnet_p2q8_c20.safetensors" : "espnetc_p2q8_c20.safetensors";
        var content = SafetensorsFile.Read(ReferenceData.File(file));
        var net = NetworkFactory.Create(arch, 20, 2, 8);
        WeightLoader.Load(net, content.ByName, file);
        net.eval();
        return net;
    }

    [SharedFact]
    public void EspNet_reproduces_the_reference_labels_and_logits()
    {
        using var net = LoadReference(ModelArchitecture.EspNet);
        using var _ = inference_mode();
        using var scope = NewDisposeScope();
        var logits = net.call(ReferenceInput());
        Assert.Equal(new long[] { 1, 20, 512, 1024 }, logits.shape);

        var labels = logits.argmax(1).to(ScalarType.Byte).flatten().data<byte>().ToArray();
        var expected = ReferenceData.Bytes($"{ReferenceData.Frame}_labels_512x1024.u8.gz");
        int differing = labels.Zip(expected).Count(p => p.First != p.Second);
        Assert.True(differing <= expected.Length * 1e-4, $"{differing} of {expected.Length} labels differ");

        foreach (var (y, x) in new[] { (0, 0), (224, 480), (448, 960) })
        {
            var crop = logits[.., .., y..(y + 64), x..(x + 64)];
            var reference = tensor(ReferenceData.Floats($"{ReferenceData.Frame}_logits_crop_y{y}_x{x}_1x20x64x64.f32"), [1, 20, 64, 64]);
            double maxDiff = (crop - reference).abs().max().item<float>();
            Assert.True(maxDiff < 1e-3, $"crop y{y} x{x}: max |Δ| = {maxDiff}");
        }
    }

    [SharedFact]
    public void EspNetC_reproduces_the_reference_logits()
    {
        using var net = LoadReference(ModelArchitecture.EspNetC);
        using var _ = inference_mode();
        using var scope = NewDisposeScope();
        var logits = net.call(ReferenceInput());
        Assert.Equal(new long[] { 1, 20, 64, 128 }, logits.shape);
        var reference = tensor(ReferenceData.Floats($"{ReferenceData.Frame}_espnetc_logits_1x20x64x128.f32.gz"), [1, 20, 64, 128]);
        double maxDiff = (logits - reference).abs().max().item<float>();
        Assert.True(maxDiff < 1e-3, $"max |Δ| = {maxDiff}");
    }
}
