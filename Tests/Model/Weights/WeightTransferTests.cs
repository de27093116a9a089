using WsiSegment.Model.Network;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Weights;
using WsiSegment.Tests.Model.Parity;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Model.Weights;

public class WeightTransferTests
{
    public WeightTransferTests() => TorchRuntime.Initialise();

    [SharedFact]
    public void The_authors_cityscapes_weights_start_a_two_class_espnet_except_its_class_dependent_layers()
    {
        var file = SafetensorsFile.Read(ReferenceData.File("espnet_p2q8_c20.safetensors")).ByName;
        using var net = new EspNet(2);
        var report = WeightTransfer.Apply(net, file);
        // Every encoder tensor but the 20-class classifier fits; every decoder tensor depends on the class count.
        Assert.Contains("encoder.level3.7.d16.conv.weight", report.Loaded);
        Assert.All(report.Loaded, n => Assert.StartsWith("encoder.", n));
        Assert.DoesNotContain(report.Loaded, n => n.StartsWith("encoder.classifier.", StringComparison.Ordinal));
        Assert.Contains(report.Reinitialised, r => r.StartsWith("up_l3.0.weight: file [20, 20, 2, 2] vs network [2, 2, 2, 2]", StringComparison.Ordinal));
        // The 2-class decoder block has no d4/d8/d16: those file tensors have no place.
        Assert.Contains("combine_l2_l3.1.d16.conv.weight", report.Unused);
        Assert.Equal(file["encoder.level1.conv.weight"].Data, SafetensorsTensor.FromTensor("x", net.state_dict()["encoder.level1.conv.weight"]).Data);

        // Into an ESPNet-C: the file's encoder. part.
        using var encoder = new EspNetC(3);
        var r2 = WeightTransfer.Apply(encoder, file);
        Assert.Contains("level3.7.d16.conv.weight", r2.Loaded);
        Assert.Contains(r2.Reinitialised, r => r.StartsWith("classifier.conv.weight:", StringComparison.Ordinal));
    }
}
