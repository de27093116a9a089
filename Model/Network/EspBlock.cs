using TorchSharp;
using WsiSegment.Model.Runtime;
using static TorchSharp.torch;

namespace WsiSegment.Model.Network;

/// <summary>
/// The ESP module (reference: <c>DilatedParllelResidualBlockB</c>): 1×1 reduce to ⌊N/5⌋ channels, five dilated
/// 3×3 branches with hierarchical fusion, concatenation, identity residual when <c>add</c>, then BN + PReLU.
/// </summary>
public sealed class EspBlock : nn.Module<Tensor, Tensor>
{
    private readonly ConvLayer c1;
    private readonly ConvLayer d1;
    // Null for the rates a block of fewer than 5 channels does not have (RegisterComponents skips null fields).
    private readonly ConvLayer? d2;
    private readonly ConvLayer? d4;
    private readonly ConvLayer? d8;
    private readonly ConvLayer? d16;
    private readonly BnPrelu bn;
    private readonly bool add;

    public EspBlock(long nIn, long nOut, bool add = true) : base("ESP")
    {
        var (n, _) = EspBranches.Split(nOut);
        c1 = new ConvLayer(nIn, n, 1, 1);
        (d1, d2, d4, d8, d16) = EspBranches.Create(nOut);
        bn = new BnPrelu(nOut);
        this.add = add;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var reduced = c1.call(input);
        var combine = EspBranches.Merge(reduced, d1, d2, d4, d8, d16);
        // cat's backward does not need its output, so the residual may be added in place even when training.
        if (add) combine = combine.add_(input, HeldScalars.One);
        return scope.MoveToOuter(bn.call(combine));
    }
}
