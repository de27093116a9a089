using WsiSegment.Model.Network;
using WsiSegment.Model.Runtime;
using static TorchSharp.torch;

namespace WsiSegment.Tests.Model.Network;

/// <summary>
/// Guards the reason the networks run channels-last: libtorch's float32 NCHW convolution gets ESPNet's odd channel
/// counts wrong on this machine; channels-last must agree with float64.
/// </summary>
public class ChannelsLastConvolutionTests
{
    public ChannelsLastConvolutionTests() => TorchRuntime.Initialise();

    [Theory]
    [InlineData(19, 12, 2, 1)]
    [InlineData(131, 25, 2, 1)]
    [InlineData(25, 25, 1, 16)]
    [InlineData(25, 28, 1, 1)]
    public void Channels_last_float32_convolution_agrees_with_float64(int cin, int cout, int stride, int dilation)
    {
        using var _ = inference_mode();
        using var scope = NewDisposeScope();
        manual_seed(1);
        var x = randn(1, cin, 48, 64);
        var w = randn(cout, cin, 3, 3) * 0.1;
        long[] s = [stride, stride], p = [dilation, dilation], d = [dilation, dilation];
        var y = nn.functional.conv2d(ChannelsLast.Of(x), w, null, s, p, d);
        Assert.True(ChannelsLast.Is(y));
        var y64 = nn.functional.conv2d(x.to(float64), w.to(float64), null, s, p, d);
        double diff = (y.to(float64) - y64).abs().max().item<double>();
        Assert.True(diff < 1e-4, $"max |Δ| = {diff}");
    }
}
