using WsiSegment.Stitching;

namespace WsiSegment.Tests.Stitching;

/// <summary>A smooth, known softmax field over a W×H image, cut into tiles the way the model would deliver them.</summary>
internal sealed class ProbabilityField
{
    private readonly float[] _p; // [class][y][x]

    public ProbabilityField(int width, int height, int classes)
    {
        Width = width; Height = height; Classes = classes;
        _p = new float[classes * width * height];
        var logits = new double[classes];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                double max = double.MinValue;
                for (int k = 0; k < classes; k++)
                {
                    // Smooth blobs at different frequencies per class; an irrational offset keeps exact ties away.
                    logits[k] = 3 * Math.Sin(x * (0.011 + 0.003 * k) + k * 1.7) * Math.Cos(y * (0.013 + 0.002 * k) - k * 0.9) + 0.1 * k * Math.PI / 7;
                    max = Math.Max(max, logits[k]);
                }
                double sum = 0;
                for (int k = 0; k < classes; k++) sum += logits[k] = Math.Exp(logits[k] - max);
                for (int k = 0; k < classes; k++) _p[(k * height + y) * width + x] = (float)(logits[k] / sum);
            }
    }

    public int Width { get; }
    public int Height { get; }
    public int Classes { get; }

    public float this[int k, int x, int y] => _p[(k * Height + y) * Width + x];

    public byte[] Argmax()
    {
        var labels = new byte[Width * Height];
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
            {
                int best = 0;
                for (int k = 1; k < Classes; k++) if (this[k, x, y] > this[best, x, y]) best = k;
                labels[y * Width + x] = (byte)best;
            }
        return labels;
    }

    /// <summary>Tile (row, col) as T×T×Classes (pixel-interleaved), probabilities or logits (log p + a constant, whose
    /// softmax is p again); pixels past the border get junk (the stitcher must ignore them).</summary>
    public float[] Tile(WsiSegment.Core.Grid.TileLayout g, int row, int col, Random junk, bool logits = false)
    {
        int t = g.Tile;
        var tile = new float[Classes * t * t];
        var (x0, y0) = g.Origin(row, col);
        for (int k = 0; k < Classes; k++)
            for (int v = 0; v < t; v++)
                for (int u = 0; u < t; u++)
                {
                    int x = x0 + u, y = y0 + v;
                    tile[(v * t + u) * Classes + k] = x < Width && y < Height ? (logits ? MathF.Log(this[k, x, y]) + 3 : this[k, x, y]) : (float)junk.NextDouble() * 10;
                }
        return tile;
    }
}

/// <summary>Collects blocks into an image and checks each pixel is delivered exactly once.</summary>
internal sealed class ImageSink(int width, int height) : WsiSegment.Stitching.Blending.ILabelSink
{
    public byte[] Labels { get; } = new byte[width * height];
    public int[] Writes { get; } = new int[width * height];
    public int Blocks { get; private set; }

    public void Write(int x, int y, int w, int h, ReadOnlySpan<byte> labels)
    {
        Blocks++;
        for (int r = 0; r < h; r++)
            for (int c = 0; c < w; c++)
            {
                Labels[(y + r) * width + x + c] = labels[r * w + c];
                Writes[(y + r) * width + x + c]++;
            }
    }
}
