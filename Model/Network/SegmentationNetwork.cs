using TorchSharp;
using static TorchSharp.torch;

namespace WsiSegment.Model.Network;

/// <summary>
/// A network of this tool as the rest of the code sees it: what it is (<see cref="Spec"/>), its forward in the
/// channels-last layout it computes in, and BatchNorm folding for inference. The variants (ESPNet, ESPNet-C) are
/// built from a <see cref="NetworkSpec"/> by <see cref="NetworkFactory"/>; nothing outside Network/ asks which one it holds.
/// The set is closed (the abstract members are internal): state_dict names follow the authors' PyTorch code.
/// </summary>
public abstract class SegmentationNetwork : nn.Module<Tensor, Tensor>
{
    private protected SegmentationNetwork(string name, NetworkSpec spec) : base(name)
    {
        spec.Validate();
        Spec = spec;
    }

    public NetworkSpec Spec { get; }
    public int Classes => Spec.Classes;
    public int P => Spec.P;
    public int Q => Spec.Q;

    /// <summary>Logits come out at 1/<see cref="OutputStride"/> of the input size (⌈H/s⌉×⌈W/s⌉).</summary>
    public int OutputStride => Spec.Architecture.OutputStride();

    /// <summary>Trainable parameters (what the paper counts).</summary>
    public long ParameterCount => NetworkFactory.CountParameters(this);

    /// <summary>Logits (NCHW, contiguous). Runs channels-last inside (see <see cref="ChannelsLast"/> for why).</summary>
    public sealed override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(ForwardChannelsLast(input).contiguous());
    }

    /// <summary>Logits with channels-last strides, saving the final copy when the caller reads them by index anyway.
    /// The input height and width must be multiples of 8 (the inference engine pads).</summary>
    public abstract Tensor ForwardChannelsLast(Tensor input);

    /// <summary>Folds every BatchNorm that directly follows a convolution into it (eval-mode inference only, irreversible).</summary>
    internal abstract void FoldBatchNorm();
}
