using WsiSegment.Stitching.Spooling;
using WsiSegment.Core.Classes;

namespace WsiSegment.Stitching.Output;

/// <summary>A small label image: the analysis labels (<see cref="SourceWidth"/> × <see cref="SourceHeight"/>) shrunk by
/// an integer <see cref="Factor"/>: pixel (x, y) covers analysis pixels [x·Factor, (x+1)·Factor) × [y·Factor, (y+1)·Factor),
/// clipped to the source.</summary>
public sealed record ReducedLabels(int Width, int Height, int Factor, int SourceWidth, int SourceHeight, byte[] Labels)
{
    /// <summary>Wraps an analysis label image as it is (factor 1).</summary>
    public static ReducedLabels Full(int width, int height, byte[] labels) =>
        labels.Length == width * height ? new(width, height, 1, width, height, labels)
            : throw new ArgumentException($"{labels.Length} labels for {width}×{height}", nameof(labels));

    public byte At(int x, int y) => Labels[y * Width + x];

    /// <summary>
    /// Shrinks the spool by mode (the most common label of each Factor×Factor block; ties go to the lower label)
    /// so the long side is at most <paramref name="maxSide"/>. Reads the spool in strips of Factor rows.
    /// </summary>
    public static ReducedLabels FromSpool(LabelSpool spool, int maxSide = 2048)
    {
        ArgumentNullException.ThrowIfNull(spool);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSide, 1);
        int factor = Math.Max(1, (int)Math.Ceiling(Math.Max(spool.Width, spool.Height) / (double)maxSide));
        int w = (spool.Width + factor - 1) / factor, h = (spool.Height + factor - 1) / factor;
        var labels = new byte[w * h];
        var strip = new byte[(long)factor * spool.Width];
        Span<int> counts = stackalloc int[256];
        for (int ry = 0; ry < h; ry++)
        {
            int y0 = ry * factor, rows = Math.Min(factor, spool.Height - y0);
            spool.ReadRows(y0, rows, strip);
            for (int rx = 0; rx < w; rx++)
            {
                int x0 = rx * factor, cols = Math.Min(factor, spool.Width - x0);
                if (factor == 1) { labels[ry * w + rx] = strip[x0]; continue; }
                counts.Clear();
                int max = 0, best = 0;
                for (int r = 0; r < rows; r++)
                {
                    var row = strip.AsSpan(r * spool.Width + x0, cols);
                    foreach (byte l in row)
                    {
                        // Track the mode as we count: the final maximum is reached by some increment.
                        int n = ++counts[l];
                        if (n > max || (n == max && l < best)) { max = n; best = l; }
                    }
                }
                labels[ry * w + rx] = (byte)best;
            }
        }
        return new ReducedLabels(w, h, factor, spool.Width, spool.Height, labels);
    }

    /// <summary>Labels → RGB bytes (interleaved) through the classes' colours.</summary>
    public byte[] Colourise(ClassTable classes)
    {
        var lut = classes.ColourTable();
        var rgb = new byte[Labels.Length * 3];
        for (int i = 0; i < Labels.Length; i++)
        {
            int c = Labels[i] * 3;
            rgb[3 * i] = lut[c];
            rgb[3 * i + 1] = lut[c + 1];
            rgb[3 * i + 2] = lut[c + 2];
        }
        return rgb;
    }
}
