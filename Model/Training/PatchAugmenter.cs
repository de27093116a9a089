using WsiSegment.Model.Cards;

namespace WsiSegment.Model.Training;

/// <summary>
/// Turns one decoded patch into a network input of crop×crop: a random zoom and crop window, one of the eight
/// flips/rotations, and H&amp;E stain + brightness/contrast jitter, then the model card's input normalisation (CHW floats,
/// channel order, mean, std and scale through <see cref="InputNormalisation.Affine"/>, as the inference engine applies it).
/// Labels follow the same geometry by nearest neighbour; pixels the window leaves outside the patch get
/// <see cref="IgnoreLabel"/> (no loss, no metric). Deterministic for a given <see cref="Random"/>.
/// </summary>
public sealed class PatchAugmenter
{
    /// <summary>Label of pixels that carry no ground truth (padding); cross-entropy and metrics skip it.</summary>
    public const byte IgnoreLabel = 255;

    // Ruifrok & Johnston's H&E-DAB optical-density vectors (rows: haematoxylin, eosin, DAB), as scikit-image uses them.
    private static readonly float[,] RgbFromHed = { { 0.65f, 0.70f, 0.29f }, { 0.07f, 0.99f, 0.11f }, { 0.27f, 0.57f, 0.78f } };
    private static readonly float[,] HedFromRgb = Invert(RgbFromHed);
    private static readonly float[] OpticalDensity = Enumerable.Range(0, 256).Select(v => -MathF.Log(Math.Max(v, 1) / 255f)).ToArray();

    private readonly AugmentationOptions _options;
    private readonly (int Source, float A, float B)[] _affine;

    public PatchAugmenter(AugmentationOptions options, InputNormalisation normalisation)
    {
        options.Validate();
        normalisation.Validate("input normalisation");
        _options = options;
        Normalisation = normalisation;
        _affine = normalisation.Affine();
    }

    /// <summary>The convention the network inputs are written in.</summary>
    public InputNormalisation Normalisation { get; }

    /// <summary>
    /// Writes the network input (3×crop×crop, normalised) and its labels (crop×crop). With <paramref name="random"/>
    /// null the patch is centre-cropped (or padded) without any change: the validation view.
    /// </summary>
    public void Apply(DecodedImage image, DecodedImage labels, int crop, Random? random, Span<float> input, Span<byte> target)
    {
        if (input.Length != 3 * crop * crop || target.Length != crop * crop) throw new ArgumentException("output buffers do not match the crop");
        int w = image.Width, h = image.Height;
        var o = random is null ? AugmentationOptions.None : _options;
        double scale = o.MaxScale > o.MinScale
            ? Math.Exp(Math.Log(o.MinScale) + random!.NextDouble() * (Math.Log(o.MaxScale) - Math.Log(o.MinScale)))
            : o.MinScale;
        double window = crop / scale;
        double x0 = Origin(w, window, random), y0 = Origin(h, window, random);
        bool flipX = o.Flips && random!.Next(2) == 1;
        bool flipY = o.Flips && random!.Next(2) == 1;
        bool transpose = o.Rotations && random!.Next(2) == 1; // transpose + flips = the 8 rotations/reflections

        // Colour: stain scale/shift per HED channel, then contrast around mid-grey and brightness.
        Span<float> alpha = stackalloc float[3];
        Span<float> beta = stackalloc float[3];
        for (int c = 0; c < 3; c++)
        {
            alpha[c] = o.StainJitter > 0 ? 1f + (float)((random!.NextDouble() * 2 - 1) * o.StainJitter) : 1f;
            beta[c] = o.StainJitter > 0 ? (float)((random!.NextDouble() * 2 - 1) * o.StainJitter) : 0f;
        }
        float contrast = o.Contrast > 0 ? 1f + (float)((random!.NextDouble() * 2 - 1) * o.Contrast) : 1f;
        float brightness = o.Brightness > 0 ? (float)((random!.NextDouble() * 2 - 1) * o.Brightness) : 0f;
        bool stain = o.StainJitter > 0;

        int plane = crop * crop;
        byte[] px = image.Pixels, lab = labels.Pixels;
        float inv = (float)(1 / scale);
        Span<float> rgb = stackalloc float[3];
        for (int v = 0; v < crop; v++)
        {
            for (int u = 0; u < crop; u++)
            {
                int a = flipX ? crop - 1 - u : u, b = flipY ? crop - 1 - v : v;
                if (transpose) (a, b) = (b, a);
                float sx = (float)(x0 + (a + 0.5f) * inv - 0.5f), sy = (float)(y0 + (b + 0.5f) * inv - 0.5f);
                int o1 = v * crop + u;
                int nx = (int)MathF.Round(sx), ny = (int)MathF.Round(sy);
                if (nx < 0 || ny < 0 || nx >= w || ny >= h)
                {
                    target[o1] = IgnoreLabel;
                    for (int c = 0; c < 3; c++) input[c * plane + o1] = 0f; // the mean colour under any convention
                    continue;
                }
                target[o1] = lab[ny * w + nx];
                // Bilinear RGB, clamped at the patch edge.
                float fx = Math.Clamp(sx, 0, w - 1), fy = Math.Clamp(sy, 0, h - 1);
                int ix = Math.Min((int)fx, w - 2 < 0 ? 0 : w - 2), iy = Math.Min((int)fy, h - 2 < 0 ? 0 : h - 2);
                float tx = fx - ix, ty = fy - iy;
                int p00 = (iy * w + ix) * 3, p01 = p00 + 3, p10 = p00 + w * 3, p11 = p10 + 3;
                for (int c = 0; c < 3; c++)
                {
                    float top = px[p00 + c] + (px[p01 + c] - px[p00 + c]) * tx;
                    float bottom = px[p10 + c] + (px[p11 + c] - px[p10 + c]) * tx;
                    rgb[c] = top + (bottom - top) * ty;
                }
                if (stain) Stain(rgb, alpha, beta);
                for (int c = 0; c < 3; c++)
                {
                    var (src, mul, add) = _affine[c];
                    float value = (rgb[src] / 255f - 0.5f) * contrast + 0.5f + brightness;
                    input[c * plane + o1] = Math.Clamp(value, 0f, 1f) * 255f * mul + add;
                }
            }
        }
    }

    /// <summary>Label maps 8× smaller by block mode (ESPNet-C's output stride), ignoring padding; for the encoder stage.</summary>
    public static void DownsampleLabels(ReadOnlySpan<byte> labels, int size, int factor, Span<byte> output)
    {
        int small = size / factor;
        if (size % factor != 0 || output.Length != small * small) throw new ArgumentException("size must be a multiple of the factor");
        Span<int> counts = stackalloc int[256];
        for (int by = 0; by < small; by++)
            for (int bx = 0; bx < small; bx++)
            {
                counts.Clear();
                for (int y = by * factor; y < (by + 1) * factor; y++)
                    for (int x = bx * factor; x < (bx + 1) * factor; x++)
                        counts[labels[y * size + x]]++;
                int best = IgnoreLabel, bestCount = 0;
                for (int c = 0; c < IgnoreLabel; c++)
                    if (counts[c] > bestCount) { best = c; bestCount = counts[c]; }
                output[by * small + bx] = (byte)best;
            }
    }

    private static double Origin(int size, double window, Random? random)
    {
        double lo = Math.Min(0, size - window), hi = Math.Max(0, size - window);
        return random is null ? (size - window) / 2 : lo + random.NextDouble() * (hi - lo);
    }

    private static void Stain(Span<float> rgb, ReadOnlySpan<float> alpha, ReadOnlySpan<float> beta)
    {
        Span<float> od = stackalloc float[3];
        for (int c = 0; c < 3; c++) od[c] = OpticalDensity[(int)Math.Clamp(rgb[c] + 0.5f, 0, 255)];
        Span<float> hed = stackalloc float[3];
        for (int s = 0; s < 3; s++)
        {
            float v = od[0] * HedFromRgb[0, s] + od[1] * HedFromRgb[1, s] + od[2] * HedFromRgb[2, s];
            hed[s] = v * alpha[s] + beta[s];
        }
        for (int c = 0; c < 3; c++)
        {
            float d = hed[0] * RgbFromHed[0, c] + hed[1] * RgbFromHed[1, c] + hed[2] * RgbFromHed[2, c];
            rgb[c] = 255f * MathF.Exp(-Math.Max(d, 0f));
        }
    }

    private static float[,] Invert(float[,] m)
    {
        double a = m[0, 0], b = m[0, 1], c = m[0, 2], d = m[1, 0], e = m[1, 1], f = m[1, 2], g = m[2, 0], h = m[2, 1], i = m[2, 2];
        double det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
        return new float[,]
        {
            { (float)((e * i - f * h) / det), (float)((c * h - b * i) / det), (float)((b * f - c * e) / det) },
            { (float)((f * g - d * i) / det), (float)((a * i - c * g) / det), (float)((c * d - a * f) / det) },
            { (float)((d * h - e * g) / det), (float)((b * g - a * h) / det), (float)((a * e - b * d) / det) },
        };
    }
}
