using WsiSegment.Model.Runtime;
using static TorchSharp.torch;

namespace WsiSegment.Model.Network;

/// <summary>
/// The split-transform-merge core shared by the ESP block and its strided variant: five parallel 3×3 convolutions
/// with dilation 1, 2, 4, 8, 16 on the reduced map, hierarchical feature fusion (running sums of the dilated
/// branches, which removes gridding artefacts), concatenated as [d1, d2, d2+d4, d2+d4+d8, d2+d4+d8+d16].
/// </summary>
internal static class EspBranches
{
    /// <summary>Channels per dilated branch n = ⌊N/5⌋; the rate-1 branch takes the remainder N − 4n.</summary>
    public static (long N, long N1) Split(long nOut)
    {
        long n = nOut / 5;
        return (n, nOut - 4 * n);
    }

    public static Tensor Merge(Tensor reduced, ConvLayer d1, ConvLayer d2, ConvLayer d4, ConvLayer d8, ConvLayer d16)
    {
        var b1 = d1.call(reduced);
        var add1 = d2.call(reduced);
        var add2 = d4.call(reduced).add_(add1, HeldScalars.One);
        var add3 = d8.call(reduced).add_(add2, HeldScalars.One);
        var add4 = d16.call(reduced).add_(add3, HeldScalars.One);
        return cat([b1, add1, add2, add3, add4], 1);
    }
}
