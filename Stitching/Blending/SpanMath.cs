using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace WsiSegment.Stitching.Blending;

/// <summary>The accumulator's hot loops over float spans, vectorised with <see cref="Vector{T}"/>.</summary>
internal static class SpanMath
{
    /// <summary>dst[i] = a[i] · b[i] · s.</summary>
    public static void MultiplyScaled(ReadOnlySpan<float> a, ReadOnlySpan<float> b, float s, Span<float> dst)
    {
        int n = dst.Length;
        if (a.Length < n || b.Length < n) throw new ArgumentException("spans shorter than the destination");
        var va = MemoryMarshal.Cast<float, Vector<float>>(a[..n]);
        var vb = MemoryMarshal.Cast<float, Vector<float>>(b[..n]);
        var vd = MemoryMarshal.Cast<float, Vector<float>>(dst);
        var vs = new Vector<float>(s);
        for (int j = 0; j < vd.Length; j++) vd[j] = va[j] * vb[j] * vs;
        for (int i = vd.Length * Vector<float>.Count; i < n; i++) dst[i] = a[i] * b[i] * s;
    }

    /// <summary>
    /// Per pixel p: dst[p·classes + k] = softmax(logits of p)[k] · weights[p] · s — probabilities from logits, then
    /// weighted, in one pass (pixel-interleaved).
    /// </summary>
    public static void SoftmaxWeighted(ReadOnlySpan<float> logits, int classes, ReadOnlySpan<float> weights, float s, Span<float> dst)
    {
        int n = dst.Length / classes;
        if (logits.Length < n * classes || weights.Length < n) throw new ArgumentException("spans shorter than the destination");
        if (classes == 8 && Avx.IsSupported)
        {
            var src = MemoryMarshal.Cast<float, Vector256<float>>(logits[..(n * 8)]);
            var dv = MemoryMarshal.Cast<float, Vector256<float>>(dst[..(n * 8)]);
            for (int p = 0; p < n; p++)
            {
                var v = src[p];
                var e = Vector256.Exp(v - HorizontalMax(v));
                dv[p] = e * (weights[p] * s / Vector256.Sum(e));
            }
            return;
        }
        for (int p = 0; p < n; p++)
        {
            var px = logits.Slice(p * classes, classes);
            var o = dst.Slice(p * classes, classes);
            float max = px[0];
            for (int k = 1; k < classes; k++) max = MathF.Max(max, px[k]);
            float sum = 0;
            for (int k = 0; k < classes; k++) sum += o[k] = MathF.Exp(px[k] - max);
            float scale = weights[p] * s / sum;
            for (int k = 0; k < classes; k++) o[k] *= scale;
        }
    }

    /// <summary>dst[i] += src[i].</summary>
    public static void AddInPlace(Span<float> dst, ReadOnlySpan<float> src)
    {
        int n = dst.Length;
        var vs = MemoryMarshal.Cast<float, Vector<float>>(src[..n]);
        var vd = MemoryMarshal.Cast<float, Vector<float>>(dst);
        for (int j = 0; j < vd.Length; j++) vd[j] += vs[j];
        for (int i = vd.Length * Vector<float>.Count; i < n; i++) dst[i] += src[i];
    }

    /// <summary>
    /// labels[p] = the first class k with the largest scores[p·classes + k] (pixel-interleaved scores); all-zero
    /// scores give class 0 (background).
    /// </summary>
    public static void ArgmaxInterleaved(ReadOnlySpan<float> scores, int classes, Span<byte> labels)
    {
        int n = labels.Length;
        if (scores.Length < n * classes) throw new ArgumentException($"{scores.Length} scores for {n} pixels of {classes} classes");
        if (classes == 8 && Avx.IsSupported)
        {
            Argmax8(scores, labels);
            return;
        }
        for (int p = 0; p < n; p++)
        {
            var px = scores.Slice(p * classes, classes);
            float best = px[0];
            int index = 0;
            for (int k = 1; k < px.Length; k++)
                if (px[k] > best) { best = px[k]; index = k; }
            labels[p] = (byte)index;
        }
    }

    /// <summary>Eight classes: one 256-bit vector per pixel, a branch-free horizontal max, the lowest lane equal to it.</summary>
    private static void Argmax8(ReadOnlySpan<float> scores, Span<byte> labels)
    {
        var pixels = MemoryMarshal.Cast<float, Vector256<float>>(scores[..(labels.Length * 8)]);
        for (int p = 0; p < pixels.Length; p++)
        {
            var v = pixels[p];
            uint equal = Vector256.Equals(v, HorizontalMax(v)).ExtractMostSignificantBits();
            labels[p] = (byte)(equal == 0 ? 0 : BitOperations.TrailingZeroCount(equal)); // NaN scores: background
        }
    }

    /// <summary>Every lane holds the largest of the eight.</summary>
    private static Vector256<float> HorizontalMax(Vector256<float> v)
    {
        var m = Avx.Max(v, Avx.Permute2x128(v, v, 1));  // halves swapped
        m = Avx.Max(m, Avx.Permute(m, 0b01_00_11_10));   // pairs swapped
        return Avx.Max(m, Avx.Permute(m, 0b10_11_00_01)); // neighbours swapped
    }
}
