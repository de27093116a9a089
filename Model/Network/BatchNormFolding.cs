using TorchSharp;
using TorchSharp.Modules;
using WsiSegment.Model.Runtime;
using static TorchSharp.torch;

namespace WsiSegment.Model.Network;

/// <summary>
/// Folds an eval-mode BatchNorm into the convolution right before it: w' = w·γ/√(σ²+ε) per output channel,
/// b' = (b − μ)·γ/√(σ²+ε) + β. The arithmetic runs in float64 so folding adds no error of its own.
/// </summary>
internal static class BatchNormFolding
{
    public static void FoldInto(nn.Module<Tensor, Tensor> convolution, BatchNorm2d bn, bool transposed)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var (weight, bias) = convolution switch
        {
            Conv2d c => (c.weight!, c.bias),
            ConvTranspose2d t => (t.weight!, t.bias),
            _ => throw new ArgumentException("BatchNorm folding needs a Conv2d or ConvTranspose2d", nameof(convolution)),
        };
        var dtype = weight.dtype;
        // Numbers go in as held Scalars, never as temporaries (see HeldScalars).
        using var eps = bn.eps.ToScalar();
        var scale = bn.weight!.to(float64).div(bn.running_var!.to(float64).add(eps, HeldScalars.One).sqrt());
        // Conv2d weights are out×in×k×k; transposed ones in×out×k×k: scale along the output-channel axis.
        var shape = transposed ? new long[] { 1, -1, 1, 1 } : new long[] { -1, 1, 1, 1 };
        var newWeight = (weight.to(float64) * scale.reshape(shape)).to(dtype);
        var oldBias = bias is null ? zeros_like(bn.running_mean!, dtype: float64) : bias.to(float64);
        var newBias = oldBias.sub(bn.running_mean!.to(float64)).mul(scale).add(bn.bias!.to(float64), HeldScalars.One).to(dtype);
        weight.copy_(newWeight);
        // The new bias must outlive this scope: the module owns it.
        var biasParameter = new Parameter(newBias.detach().clone(), requires_grad: false);
        biasParameter.DetachFromDisposeScope();
        switch (convolution)
        {
            case Conv2d c: c.bias = biasParameter; break;
            case ConvTranspose2d t: t.bias = biasParameter; break;
        }
    }
}
