using TorchSharp;
using static TorchSharp.torch;

namespace WsiSegment.Model.Network;

/// <summary>Builds ESPNet or ESPNet-C by name; the single place that knows which class is which architecture.</summary>
public static class NetworkFactory
{
    public static nn.Module<Tensor, Tensor> Create(ModelArchitecture arch, int classes, int p = 2, int q = 8) => arch switch
    {
        ModelArchitecture.EspNet => new EspNet(classes, p, q),
        ModelArchitecture.EspNetC => new EspNetC(classes, p, q),
        _ => throw new ArgumentOutOfRangeException(nameof(arch), arch, "unknown architecture"),
    };

    /// <summary>The architecture of a network built here.</summary>
    public static ModelArchitecture ArchitectureOf(nn.Module<Tensor, Tensor> network) => network switch
    {
        EspNet => ModelArchitecture.EspNet,
        EspNetC => ModelArchitecture.EspNetC,
        _ => throw new ArgumentException($"not an ESPNet network: {network.GetType().Name}", nameof(network)),
    };

    /// <summary>Architecture, class count and depth multipliers of a network built here.</summary>
    public static NetworkSpec Describe(nn.Module<Tensor, Tensor> network) => network switch
    {
        EspNet e => new NetworkSpec(ModelArchitecture.EspNet, e.Classes, e.P, e.Q),
        EspNetC c => new NetworkSpec(ModelArchitecture.EspNetC, c.Classes, c.P, c.Q),
        _ => throw new ArgumentException($"not an ESPNet network: {network.GetType().Name}", nameof(network)),
    };

    /// <summary>Folds the BatchNorms that directly follow a convolution (eval-mode inference only).</summary>
    public static void FoldBatchNorm(nn.Module<Tensor, Tensor> network)
    {
        switch (network)
        {
            case EspNet e: e.FoldBatchNorm(); break;
            case EspNetC c: c.FoldBatchNorm(); break;
            default: throw new ArgumentException($"not an ESPNet network: {network.GetType().Name}", nameof(network));
        }
    }

    /// <summary>
    /// Branches of the decoder's last ESP block (the one with <paramref name="classes"/> output channels): the paper's
    /// 5, or one per class below 5 classes. Recorded in the model card as <c>decoder_esp_branches</c>; null for ESPNet-C.
    /// </summary>
    public static int? DecoderBranches(ModelArchitecture arch, int classes) =>
        arch == ModelArchitecture.EspNet ? EspBranches.Count(classes) : null;

    /// <summary>Trainable parameters (what the paper counts).</summary>
    public static long CountParameters(nn.Module network) =>
        network.parameters().Where(t => t.requires_grad).Sum(t => t.numel());

    internal static void Validate(int classes, int p, int q, bool decoder = false)
    {
        // Below 5 classes the decoder's last ESP block has one branch per class channel (see EspBranches).
        _ = decoder;
        if (classes < 2) throw new ArgumentOutOfRangeException(nameof(classes), classes, "at least 2 classes");
        if (classes > 255) throw new ArgumentOutOfRangeException(nameof(classes), classes, "at most 255 classes (labels are bytes)");
        if (p < 1) throw new ArgumentOutOfRangeException(nameof(p), p, "depth multiplier p must be at least 1");
        if (q < 1) throw new ArgumentOutOfRangeException(nameof(q), q, "depth multiplier q must be at least 1");
    }
}

/// <summary>What a network is: architecture, classes, p and q.</summary>
public readonly record struct NetworkSpec(ModelArchitecture Architecture, int Classes, int P, int Q);
