using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace WsiSegment.Model.Network;

/// <summary>
/// The strided ESP module (reference: <c>DownSamplerB</c>): a strided 3×3 reduce, the five dilated branches with
/// hierarchical fusion, then BN + PReLU (no residual: the shapes differ).
/// </summary>
public sealed class EspDownsampler : nn.Module<Tensor, Tensor>
{
    private readonly ConvLayer c1;
    private readonly ConvLayer d1;
    // Null for the rates a block of fewer than 5 channels does not have (RegisterComponents skips null fields).
    private readonly ConvLayer? d2;
    private readonly ConvLayer? d4;
    private readonly ConvLayer? d8;
    private readonly ConvLayer? d16;
    private readonly BatchNorm2d bn;
    private readonly PReLU act;

    public EspDownsampler(long nIn, long nOut) : base("DownSamplerB")
    {
        var (n, _) = EspBranches.Split(nOut);
        c1 = new ConvLayer(nIn, n, 3, 2);
        (d1, d2, d4, d8, d16) = EspBranches.Create(nOut);
        bn = nn.BatchNorm2d(nOut, eps: 1e-3);
        act = nn.PReLU(nOut);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var reduced = c1.call(input);
        var combine = EspBranches.Merge(reduced, d1, d2, d4, d8, d16);
        return scope.MoveToOuter(act.call(BatchNormForward.Apply(bn, combine)));
    }
}
