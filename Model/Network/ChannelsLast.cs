using static TorchSharp.torch;

namespace WsiSegment.Model.Network;

/// <summary>
/// NHWC ("channels-last") strides for 4-D tensors. TorchSharp 0.107 exposes no memory-format enum, so the layout is
/// made by permuting: an NHWC-contiguous buffer viewed as NCHW, which libtorch recognises as channels-last.
/// <para>
/// Why the networks run channels-last: with libtorch 2.10's CPU build on this machine (AMD EPYC, AVX-512), float32
/// NCHW convolutions with more than 16 input channels that are not a multiple of 16 (ESPNet has 19, 131, 25, …)
/// return wrong values (errors of order 1, now and then NaN), while the same convolutions in channels-last, and
/// all of them in float64, are right (checked against float64 to 1e-5; see Tests/Model/Network). Channels-last is
/// also the layout oneDNN is fastest with.
/// </para>
/// </summary>
public static class ChannelsLast
{
    public static bool Is(Tensor x)
    {
        if (x.dim() != 4) return false;
        var s = x.stride();
        var shape = x.shape;
        return s[1] == 1 && s[3] == shape[1] && s[2] == shape[1] * shape[3];
    }

    /// <summary>The same values with NHWC strides (a new tensor, or <paramref name="x"/> itself via alias when it already is).</summary>
    public static Tensor Of(Tensor x) =>
        Is(x) ? x.alias() : x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
}
