using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace WsiSegment.Model.Network;

/// <summary>
/// A bias-free k×k convolution with "same" padding, optionally strided or dilated: the reference's <c>C</c> and
/// <c>CDilated</c> (both hold a single <c>conv</c>).
/// </summary>
public sealed class ConvLayer : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly long _stride, _padding, _dilation;

    public ConvLayer(long nIn, long nOut, long kSize, long stride = 1, long dilation = 1) : base("C")
    {
        long padding = (kSize - 1) / 2 * dilation;
        (_stride, _padding, _dilation) = (stride, padding, dilation);
        conv = nn.Conv2d(nIn, nOut, kSize, stride: stride, padding: padding, dilation: dilation, bias: false);
        RegisterComponents();
    }

    internal Conv2d Conv => conv;

    public override Tensor forward(Tensor input) => PaddedConvInput.Call(conv, input, _stride, _padding, _dilation);
}
