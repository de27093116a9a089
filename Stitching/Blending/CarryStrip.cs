using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace WsiSegment.Stitching.Blending;

/// <summary>
/// The accumulator's bottom strip: Rows × Width pixels of Classes weighted scores, the only open state that grows
/// with the slide's width. Each pixel is held as Classes half-precision mantissas and one shared power-of-two exponent
/// (the exponent of its largest score): 2·C + 1 bytes instead of 4·C (17 instead of 32 for 8 classes).
/// <para>
/// Why a shared exponent rather than plain halves: weights near a slide's border are floored to 1e-6 (1e-12 in a
/// corner), far below half precision's normal range, where plain halves lose every digit. Scaled to its own largest
/// score, a pixel keeps a relative precision of 2⁻¹¹ of that score on every class, so a stored pixel can only change a
/// label where the two best classes are within about 0.1 % of each other. Sums are formed in float as before.
/// </para>
/// Memory is an anonymous map of its own (see <see cref="NativeBuffer{T}"/>), returned when disposed.
/// </summary>
internal sealed class CarryStrip : IDisposable
{
    private readonly int _width, _classes;
    private readonly NativeBuffer<Half> _mantissas; // [row][x][class]
    private readonly NativeBuffer<sbyte> _exponents; // [row][x]
    private readonly float[] _row;                   // one span of pixels, scaled, before/after the half conversion

    public CarryStrip(int rows, int width, int classes, int maxPixels)
    {
        long values = (long)rows * width * classes;
        if (values > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(width), $"a carry strip of {classes}×{rows}×{width} values is too large");
        _width = width;
        _classes = classes;
        _mantissas = new NativeBuffer<Half>((int)values);
        try
        {
            _exponents = new NativeBuffer<sbyte>(rows * width);
        }
        catch
        {
            _mantissas.Dispose();
            throw;
        }
        _row = new float[maxPixels * classes];
    }

    /// <summary>Values held (Rows × Width × Classes).</summary>
    public int Length => _mantissas.Length;

    /// <summary>Bytes held: 2 per value and 1 per pixel.</summary>
    public long Bytes => 2L * _mantissas.Length + _exponents.Length + 4L * _row.Length;

    /// <summary>Stores <paramref name="scores"/> (pixel-interleaved) at pixels [x, x + n) of strip row <paramref name="row"/>.</summary>
    public void Store(int row, int x, ReadOnlySpan<float> scores)
    {
        int c = _classes, n = scores.Length / c;
        var scaled = _row.AsSpan(0, n * c);
        var exponents = _exponents.AsSpan(row * _width + x, n);
        for (int p = 0; p < n; p++)
        {
            var px = scores.Slice(p * c, c);
            int e = ExponentOf(px);
            exponents[p] = (sbyte)e;
            float scale = MathF.ScaleB(1f, -e); // a power of two: exact
            Scale(px, scale, scaled.Slice(p * c, c));
        }
        TensorPrimitives.ConvertToHalf(scaled, _mantissas.AsSpan((row * _width + x) * c, n * c));
    }

    /// <summary>Adds the stored scores of pixels [x, x + n) of strip row <paramref name="row"/> to <paramref name="sums"/>.</summary>
    public void AddTo(int row, int x, Span<float> sums)
    {
        int c = _classes, n = sums.Length / c;
        var scaled = _row.AsSpan(0, n * c);
        TensorPrimitives.ConvertToSingle(_mantissas.AsSpan((row * _width + x) * c, n * c), scaled);
        var exponents = _exponents.AsSpan(row * _width + x, n);
        for (int p = 0; p < n; p++)
            AddScaled(scaled.Slice(p * c, c), MathF.ScaleB(1f, exponents[p]), sums.Slice(p * c, c));
    }

    /// <summary>The binary exponent of the pixel's largest score (0 for an all-zero pixel), kept in float's normal range.</summary>
    private static int ExponentOf(ReadOnlySpan<float> px)
    {
        float max = 0;
        foreach (float v in px) max = MathF.Max(max, v);
        // Scores are non-negative; zero (a skipped tile) or NaN keep exponent 0. Clamped so 2^±e stays a normal float.
        return max > 0 && float.IsFinite(max) ? Math.Clamp(MathF.ILogB(max), -126, 126) : 0;
    }

    private static void Scale(ReadOnlySpan<float> px, float scale, Span<float> dst)
    {
        if (px.Length == 8 && Vector256.IsHardwareAccelerated)
            (MemoryMarshal.Read<Vector256<float>>(MemoryMarshal.AsBytes(px)) * scale).CopyTo(dst);
        else
            TensorPrimitives.Multiply(px, scale, dst);
    }

    private static void AddScaled(ReadOnlySpan<float> px, float scale, Span<float> sums)
    {
        if (px.Length == 8 && Vector256.IsHardwareAccelerated)
        {
            var s = MemoryMarshal.Read<Vector256<float>>(MemoryMarshal.AsBytes(sums));
            (s + MemoryMarshal.Read<Vector256<float>>(MemoryMarshal.AsBytes(px)) * scale).CopyTo(sums);
        }
        else
            TensorPrimitives.MultiplyAdd(px, scale, sums, sums);
    }

    public void Dispose()
    {
        _mantissas.Dispose();
        _exponents.Dispose();
    }
}
