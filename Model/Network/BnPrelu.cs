using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace WsiSegment.Model.Network;

/// <summary>BatchNorm (eps 1e-3) then per-channel PReLU: the reference's <c>BR</c>.</summary>
public sealed class BnPrelu : nn.Module<Tensor, Tensor>
{
    private readonly BatchNorm2d bn;
    private readonly PReLU act;
    private bool _bnFolded;

    public BnPrelu(long nOut) : base("BR")
    {
        bn = nn.BatchNorm2d(nOut, eps: 1e-3);
        act = nn.PReLU(nOut);
        RegisterComponents();
    }

    internal BatchNorm2d Bn => bn;

    /// <summary>Skips the BatchNorm from now on: the caller has folded it into the preceding convolution.</summary>
    internal void MarkBatchNormFolded() => _bnFolded = true;

    public override Tensor forward(Tensor input)
    {
        if (_bnFolded) return act.call(input);
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(act.call(BatchNormForward.Apply(bn, input)));
    }
}
