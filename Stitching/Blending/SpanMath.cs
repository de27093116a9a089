using System.Numerics;
using System.Runtime.InteropServices;

namespace WsiSegment.Stitching.Blending;

/// <summary>The accumulator's hot loops over float spans, vectorised with <see cref="Vector{T}"/>.</summary>
internal static class SpanMath
{
    /// <summary>dst[i] = a[i] · b[i].</summary>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst)
    {
        int n = dst.Length, i = 0;
        if (a.Length < n || b.Length < n) throw new ArgumentException("spans shorter than the destination");
        var va = MemoryMarshal.Cast<float, Vector<float>>(a[..n]);
        var vb = MemoryMarshal.Cast<float, Vector<float>>(b[..n]);
        var vd = MemoryMarshal.Cast<float, Vector<float>>(dst);
        for (int j = 0; j < vd.Length; j++) vd[j] = va[j] * vb[j];
        for (i = vd.Length * Vector<float>.Count; i < n; i++) dst[i] = a[i] * b[i];
    }

    /// <summary>dst[i] = a[i] · s.</summary>
    public static void Scale(ReadOnlySpan<float> a, float s, Span<float> dst)
    {
        int n = dst.Length;
        var va = MemoryMarshal.Cast<float, Vector<float>>(a[..n]);
        var vd = MemoryMarshal.Cast<float, Vector<float>>(dst);
        var vs = new Vector<float>(s);
        for (int j = 0; j < vd.Length; j++) vd[j] = va[j] * vs;
        for (int i = vd.Length * Vector<float>.Count; i < n; i++) dst[i] = a[i] * s;
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
    /// labels[u] = the first class k with the largest planes[k·planeStride + u] (u &lt; labels.Length); all-zero
    /// scores give class 0 (background).
    /// </summary>
    public static void Argmax(ReadOnlySpan<float> planes, int planeStride, int classes, Span<byte> labels)
    {
        int n = labels.Length, width = Vector<float>.Count, u = 0;
        Span<int> lanes = stackalloc int[Vector<int>.Count];
        for (; u + width <= n; u += width)
        {
            var best = new Vector<float>(planes.Slice(u, width));
            var index = Vector<int>.Zero;
            for (int k = 1; k < classes; k++)
            {
                var v = new Vector<float>(planes.Slice(k * planeStride + u, width));
                var greater = Vector.GreaterThan(v, best);
                best = Vector.ConditionalSelect(greater, v, best);
                index = Vector.ConditionalSelect(greater, new Vector<int>(k), index);
            }
            index.CopyTo(lanes);
            for (int i = 0; i < width; i++) labels[u + i] = (byte)lanes[i];
        }
        for (; u < n; u++)
        {
            float best = planes[u];
            int index = 0;
            for (int k = 1; k < classes; k++)
            {
                float v = planes[k * planeStride + u];
                if (v > best) { best = v; index = k; }
            }
            labels[u] = (byte)index;
        }
    }
}
