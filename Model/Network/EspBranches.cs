using WsiSegment.Model.Runtime;
using static TorchSharp.torch;

namespace WsiSegment.Model.Network;

/// <summary>
/// The split-transform-merge core shared by the ESP block and its strided variant: K parallel 3×3 convolutions
/// with dilation 1, 2, 4, 8, 16 on the reduced map, hierarchical feature fusion (running sums of the dilated
/// branches, which removes gridding artefacts), concatenated as [d1, d2, d2+d4, d2+d4+d8, d2+d4+d8+d16].
/// K = 5 as in the paper; a block with fewer than 5 output channels (only the decoder's last ESP block of a
/// 2–4-class ESPNet) has one 1-channel branch per channel instead, where the authors' code would build zero-channel
/// convolutions. Blocks of 5 or more channels are exactly the authors'.
/// </summary>
internal static class EspBranches
{
    /// <summary>The dilation rates of the paper's K = 5 branches, in concatenation order.</summary>
    public const int MaxBranches = 5;

    /// <summary>Branches of a block with <paramref name="nOut"/> output channels: 5, or one per channel below 5.</summary>
    public static int Count(long nOut) => (int)Math.Min(MaxBranches, nOut);

    /// <summary>Channels per dilated branch n = ⌊N/K⌋; the rate-1 branch takes the remainder N − (K−1)·n.</summary>
    public static (long N, long N1) Split(long nOut)
    {
        int k = Count(nOut);
        long n = nOut / k;
        return (n, nOut - (k - 1) * n);
    }

    /// <summary>The branch convolutions d1, d2, d4, d8, d16 of a block (null for the rates a small block does not have).</summary>
    public static (ConvLayer D1, ConvLayer? D2, ConvLayer? D4, ConvLayer? D8, ConvLayer? D16) Create(long nOut)
    {
        var (n, n1) = Split(nOut);
        int k = Count(nOut);
        ConvLayer? Rate(int index, int dilation) => k > index ? new ConvLayer(n, n, 3, 1, dilation) : null;
        return (new ConvLayer(n, n1, 3, 1, 1), Rate(1, 2), Rate(2, 4), Rate(3, 8), Rate(4, 16));
    }

    public static Tensor Merge(Tensor reduced, ConvLayer d1, ConvLayer? d2, ConvLayer? d4, ConvLayer? d8, ConvLayer? d16)
    {
        var parts = new List<Tensor>(MaxBranches) { d1.call(reduced) };
        Tensor? sum = null;
        foreach (var d in new[] { d2, d4, d8, d16 })
        {
            if (d is null) break;
            var branch = d.call(reduced);
            sum = sum is null ? branch : branch.add_(sum, HeldScalars.One);
            parts.Add(sum);
        }
        return parts.Count == 1 ? parts[0] : cat(parts, 1);
    }
}
