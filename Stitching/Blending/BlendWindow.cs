using WsiSegment.Core.Blending;

namespace WsiSegment.Stitching.Blending;

/// <summary>
/// The separable 1-D weight profile of a tile: the weight of tile pixel (u, v) is profile[u] · profile[v].
/// Weights are floored per axis so no tile pixel ever weighs zero (a border pixel covered by one tile only must
/// still get that tile's label; a zero-total pixel means "no tile ran here" and becomes background).
/// </summary>
public static class BlendWindow
{
    /// <summary>Per-axis floor of the smooth windows (corner weight 1e-6 of the centre's).</summary>
    public const float SmoothFloor = 1e-3f;

    /// <summary>Per-axis weight of a non-owning tile in <see cref="BlendMode.Crop"/>: small enough never to matter
    /// next to an owner (weight 1), large enough to label pixels whose owner was skipped.</summary>
    public const float CropFloor = 1e-6f;

    public static float[] Profile(BlendMode mode, int tile, int overlap)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tile, 1);
        var w = new float[tile];
        switch (mode)
        {
            case BlendMode.Average:
                Array.Fill(w, 1f);
                break;
            case BlendMode.Gaussian:
            {
                double sigma = 0.125 * tile, centre = tile / 2.0;
                for (int u = 0; u < tile; u++)
                {
                    double d = u + 0.5 - centre;
                    w[u] = MathF.Max(SmoothFloor, (float)Math.Exp(-d * d / (2 * sigma * sigma)));
                }
                break;
            }
            case BlendMode.Cosine:
                for (int u = 0; u < tile; u++)
                {
                    double s = Math.Sin(Math.PI * (u + 0.5) / tile);
                    w[u] = MathF.Max(SmoothFloor, (float)(s * s));
                }
                break;
            case BlendMode.Crop:
            {
                // Neighbours overlap by O: this tile owns u in [O/2, S + O/2), the left neighbour the first O/2
                // columns, the right neighbour the last O − O/2 — the nearest-centre split, each pixel owned once.
                int stride = tile - overlap, half = overlap / 2;
                for (int u = 0; u < tile; u++)
                    w[u] = u >= half && u < stride + half ? 1f : CropFloor;
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown blend mode");
        }
        return w;
    }
}
