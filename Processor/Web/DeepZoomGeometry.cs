namespace WsiSegment.Processor.Web;

/// <summary>
/// Deep Zoom pyramid arithmetic for a level-0 size: level L is the image shrunk by 2^(MaxLevel − L), rounded up,
/// cut into square tiles without overlap. Coordinates outside the pyramid give null (a 404, not an exception).
/// </summary>
public sealed record DeepZoomGeometry(int Width, int Height, int TileSize = 256)
{
    public int MaxLevel { get; } = (int)Math.Ceiling(Math.Log2(Math.Max(1, Math.Max(Width, Height))));

    /// <summary>Level-0 pixels per pixel of level <paramref name="level"/>.</summary>
    public double Scale(int level) => Math.Pow(2, MaxLevel - level);

    public (int Width, int Height) LevelSize(int level)
    {
        long s = 1L << (MaxLevel - level);
        return ((int)((Width + s - 1) / s), (int)((Height + s - 1) / s));
    }

    /// <summary>The tile's rectangle in its level's pixels, or null when (level, col, row) lies outside the pyramid.</summary>
    public (int X, int Y, int W, int H)? Tile(int level, int col, int row)
    {
        if (level < 0 || level > MaxLevel || col < 0 || row < 0) return null;
        var (w, h) = LevelSize(level);
        long x = (long)col * TileSize, y = (long)row * TileSize;
        if (x >= w || y >= h) return null;
        return ((int)x, (int)y, (int)Math.Min(TileSize, w - x), (int)Math.Min(TileSize, h - y));
    }

    public string DziXml(string format) =>
        $"""<?xml version="1.0" encoding="UTF-8"?>""" + "\n" +
        $"""<Image xmlns="http://schemas.microsoft.com/deepzoom/2008" Format="{format}" Overlap="0" TileSize="{TileSize}"><Size Width="{Width}" Height="{Height}"/></Image>""" + "\n";
}
