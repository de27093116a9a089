using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace WsiSegment.Model.Network;

/// <summary>Convolution (no bias), BatchNorm (eps 1e-3), per-channel PReLU: the reference's <c>CBR</c>.</summary>
public sealed class ConvBnPrelu : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d bn;
    private readonly PReLU act;
    private readonly long _stride, _padding;
    private bool _bnFolded;

    public ConvBnPrelu(long nIn, long nOut, long kSize, long stride = 1) : base("CBR")
    {
        (_stride, _padding) = (stride, (kSize - 1) / 2);
        conv = nn.Conv2d(nIn, nOut, kSize, stride: stride, padding: _padding, bias: false);
        bn = nn.BatchNorm2d(nOut, eps: 1e-3);
        act = nn.PReLU(nOut);
        RegisterComponents();
    }

    /// <summary>Folds the BatchNorm into the convolution (eval only): the conv gains a bias, the BN is skipped.</summary>
    internal void FoldBatchNorm()
    {
        if (_bnFolded) return;
        BatchNormFolding.FoldInto(conv, bn, transposed: false);
        _bnFolded = true;
    }

    internal Conv2d Conv => conv;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = PaddedConvInput.Call(conv, input, _stride, _padding, 1);
        if (!_bnFolded) x = BatchNormForward.Apply(bn, x);
        return scope.MoveToOuter(act.call(x));
    }
}
