using TorchSharp;

namespace WsiSegment.Model.Network;

/// <summary>Builds ESPNet or ESPNet-C from a spec; the single place that knows which class is which architecture.</summary>
public static class NetworkFactory
{
    /// <summary>A freshly initialised network (PyTorch's default initialisation, from libtorch's global generator).</summary>
    public static SegmentationNetwork Create(NetworkSpec spec) => spec.Architecture switch
    {
        ModelArchitecture.EspNet => new EspNet(spec.Classes, spec.P, spec.Q),
        ModelArchitecture.EspNetC => new EspNetC(spec.Classes, spec.P, spec.Q),
        _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Architecture, "unknown architecture"),
    };

    public static SegmentationNetwork Create(ModelArchitecture arch, int classes, int p = 2, int q = 8) =>
        Create(new NetworkSpec(arch, classes, p, q));

    /// <summary><see cref="NetworkSpec.DecoderBranches"/> of <paramref name="arch"/> with <paramref name="classes"/> classes.</summary>
    public static int? DecoderBranches(ModelArchitecture arch, int classes) => new NetworkSpec(arch, classes).DecoderBranches;

    /// <summary>Trainable parameters (what the paper counts) of any module.</summary>
    public static long CountParameters(torch.nn.Module network) =>
        network.parameters().Where(t => t.requires_grad).Sum(t => t.numel());
}
