namespace WsiSegment.Tiling.Tissue;

/// <summary>
/// Binary image operations on row-major masks (0 = background, non-zero = foreground) with a disk structuring element.
/// Outside the image counts as background for dilation and is ignored by erosion (borders are not eaten).
/// Each disk pass is O(pixels × (2r+1)) through per-row prefix counts.
/// </summary>
public static class BinaryMorphology
{
    public static byte[] Dilate(byte[] mask, int width, int height, int radius) => Disk(mask, width, height, radius, dilate: true);

    public static byte[] Erode(byte[] mask, int width, int height, int radius) => Disk(mask, width, height, radius, dilate: false);

    /// <summary>Dilation then erosion: closes gaps narrower than the disk.</summary>
    public static byte[] Close(byte[] mask, int width, int height, int radius) =>
        Erode(Dilate(mask, width, height, radius), width, height, radius);

    /// <summary>Erosion then dilation: removes specks thinner than the disk.</summary>
    public static byte[] Open(byte[] mask, int width, int height, int radius) =>
        Dilate(Erode(mask, width, height, radius), width, height, radius);

    private static byte[] Disk(byte[] mask, int width, int height, int radius, bool dilate)
    {
        if (radius <= 0) return (byte[])mask.Clone();
        // prefix[y][x] = foreground count of row y in [0, x).
        var prefix = new int[height * (width + 1)];
        // Rows are independent in both passes: spread them over the cores (segment detects tissue before its
        // stream starts, when the cores are otherwise idle).
        Parallel.For(0, height, y =>
        {
            int row = y * (width + 1), src = y * width;
            for (int x = 0; x < width; x++)
                prefix[row + x + 1] = prefix[row + x] + (mask[src + x] != 0 ? 1 : 0);
        });
        var half = new int[radius + 1];
        for (int d = 0; d <= radius; d++) half[d] = (int)Math.Floor(Math.Sqrt((double)radius * radius - (double)d * d));
        var result = new byte[mask.Length];
        Parallel.For(0, height, y =>
        {
            for (int x = 0; x < width; x++)
            {
                bool hit = !dilate;
                for (int dy = -radius; dy <= radius && hit != dilate; dy++)
                {
                    int yy = y + dy;
                    if ((uint)yy >= (uint)height) continue;
                    int w = half[Math.Abs(dy)];
                    int a = Math.Max(0, x - w), b = Math.Min(width, x + w + 1);
                    int row = yy * (width + 1);
                    int count = prefix[row + b] - prefix[row + a];
                    if (dilate ? count > 0 : count < b - a) hit = dilate;
                }
                result[y * width + x] = hit ? (byte)255 : (byte)0;
            }
        });
        return result;
    }

    /// <summary>Drops 8-connected foreground objects with fewer than <paramref name="minPixels"/> pixels (in place).</summary>
    public static void RemoveSmallObjects(byte[] mask, int width, int height, long minPixels)
    {
        if (minPixels <= 1) return;
        ForEachComponent(mask, width, height, foreground: true, eightConnected: true, (pixels, count, touchesBorder) =>
        {
            if (count < minPixels)
                for (int k = 0; k < count; k++) mask[pixels[k]] = 0;
        });
    }

    /// <summary>Fills 4-connected background holes that do not touch the border and have fewer than <paramref name="maxPixels"/> pixels (in place).</summary>
    public static void FillSmallHoles(byte[] mask, int width, int height, long maxPixels)
    {
        if (maxPixels <= 0) return;
        ForEachComponent(mask, width, height, foreground: false, eightConnected: false, (pixels, count, touchesBorder) =>
        {
            if (!touchesBorder && count < maxPixels)
                for (int k = 0; k < count; k++) mask[pixels[k]] = 255;
        });
    }

    private delegate void ComponentAction(int[] pixels, int count, bool touchesBorder);

    /// <summary>Flood-fills each component of the given kind once; the callback may change the mask (visited marks are separate).</summary>
    private static void ForEachComponent(byte[] mask, int width, int height, bool foreground, bool eightConnected, ComponentAction action)
    {
        var visited = new bool[mask.Length];
        var stack = new int[mask.Length];
        var members = new int[mask.Length];
        for (int start = 0; start < mask.Length; start++)
        {
            if (visited[start] || (mask[start] != 0) != foreground) continue;
            int top = 0, count = 0;
            bool border = false;
            stack[top++] = start;
            visited[start] = true;
            while (top > 0)
            {
                int p = stack[--top];
                members[count++] = p;
                int x = p % width, y = p / width;
                if (x == 0 || y == 0 || x == width - 1 || y == height - 1) border = true;
                for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++)
                {
                    if (dx == 0 && dy == 0) continue;
                    if (!eightConnected && dx != 0 && dy != 0) continue;
                    int nx = x + dx, ny = y + dy;
                    if ((uint)nx >= (uint)width || (uint)ny >= (uint)height) continue;
                    int q = ny * width + nx;
                    if (visited[q] || (mask[q] != 0) != foreground) continue;
                    visited[q] = true;
                    stack[top++] = q;
                }
            }
            action(members, count, border);
        }
    }
}
