using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace WsiSegment.Model.Network;

/// <summary>
/// Works around wrong bf16 convolutions on the CPU. With libtorch 2.10 here (oneDNN, AVX-512 BF16), a bf16 k×k
/// convolution (k &gt; 1) whose input has more than 16 channels and not a multiple of 16, and any bf16 convolution
/// with one input channel, returns wrong values (relative errors of 0.1–1, in NCHW and channels-last alike), while
/// 2–16 channels and multiples of 16 are right — ESPNet has 19, 24, 25, 131 and, in its decoder, 1. Zero input
/// channels with zero weights leave every sum as it was, so <see cref="PadWeights"/> widens such a convolution's
/// weight to a safe channel count and <see cref="Call"/> pads the input to match: the weight's shape is the only state.
/// bf16 transposed convolutions are wrong there for odd channel counts (ESPNet's decoder has as many as classes):
/// <see cref="UnsafeTransposedConvolution"/> says so, and such a model runs bf16 nowhere on the CPU.
/// </summary>
public static class PaddedConvInput
{
    /// <summary>Whether a bf16 CPU convolution with this kernel and input channel count needs padding, and to how many channels.</summary>
    public static long SafeChannels(long inChannels, long kernel)
    {
        if (inChannels == 1) return 2;
        if (kernel > 1 && inChannels > 16 && inChannels % 16 != 0) return (inChannels + 15) / 16 * 16;
        return inChannels;
    }

    /// <summary>Why a network cannot run bf16 on the CPU (a transposed convolution with an odd channel count), or null.</summary>
    public static string? UnsafeTransposedConvolution(nn.Module network)
    {
        foreach (var module in network.modules())
            if (module is ConvTranspose2d t && t.weight is { } w && (w.shape[0] % 2 == 1 || w.shape[1] % 2 == 1))
                return $"libtorch's bf16 transposed convolutions give wrong values for odd channel counts ({w.shape[0]}→{w.shape[1]}; the decoder has one channel per class)";
        return null;
    }

    /// <summary>Widens the weight of <paramref name="conv"/> (groups 1) with zero input channels where <see cref="SafeChannels"/> asks for it. True if it did.</summary>
    public static bool PadWeights(Conv2d conv)
    {
        var w = conv.weight ?? throw new InvalidOperationException("internal: a convolution without weights");
        long cin = w.shape[1], k = Math.Max(w.shape[2], w.shape[3]);
        long safe = SafeChannels(cin, k);
        if (safe == cin) return false;
        using (no_grad())
        {
            var wide = zeros([w.shape[0], safe, w.shape[2], w.shape[3]], w.dtype, w.device);
            wide[.., ..(int)cin].copy_(w);
            conv.weight = new Parameter(wide, requires_grad: false);
        }
        return true;
    }

    /// <summary>Runs <paramref name="conv"/> (made with these stride, padding and dilation), first padding the input with
    /// zero channels when its weight was widened (the module itself would refuse the wider input).</summary>
    public static Tensor Call(Conv2d conv, Tensor input, long stride, long padding, long dilation)
    {
        var weight = conv.weight!;
        long have = input.shape[1], want = weight.shape[1];
        if (want == have) return conv.call(input);
        using var scope = NewDisposeScope();
        var pad = zeros([input.shape[0], want - have, input.shape[2], input.shape[3]], input.dtype, input.device);
        var x = ChannelsLast.Of(cat([input, ChannelsLast.Of(pad)], 1));
        var y = nn.functional.conv2d(x, weight, conv.bias, strides: [stride, stride], padding: [padding, padding], dilation: [dilation, dilation]);
        return scope.MoveToOuter(y);
    }
}
