using System.Globalization;
using NetVips;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Processor.Web;

/// <summary>
/// Makes one Deep Zoom tile from a region read: the slide's tile from the finest pyramid level at or above the
/// tile's resolution (so a tile decodes only the few source tiles under it), the overlay's from the label mask's
/// matching page, coloured per class and transparent where background or hidden.
/// </summary>
public static class TileRenderer
{
    public const int JpegQuality = 85;

    /// <summary>JPEG of the slide's tile; <paramref name="rect"/> is in level <paramref name="level"/>'s pixels.</summary>
    public static byte[] SlideTile(SlideSource slide, DeepZoomGeometry geo, int level, (int X, int Y, int W, int H) rect)
    {
        double scale = geo.Scale(level);
        int best = 0;
        for (int i = 1; i < slide.Levels.Count; i++)
            if (slide.Levels[i].Downsample <= scale * 1.0001 && slide.Levels[i].Downsample > slide.Levels[best].Downsample) best = i;
        var source = slide.Level(best);
        double f = scale / slide.Levels[best].Downsample; // source pixels per tile pixel
        int x0 = Math.Clamp((int)Math.Floor(rect.X * f), 0, source.Width - 1);
        int y0 = Math.Clamp((int)Math.Floor(rect.Y * f), 0, source.Height - 1);
        int x1 = Math.Clamp((int)Math.Ceiling((rect.X + rect.W) * f), x0 + 1, source.Width);
        int y1 = Math.Clamp((int)Math.Ceiling((rect.Y + rect.H) * f), y0 + 1, source.Height);
        try
        {
            using var crop = source.Crop(x0, y0, x1 - x0, y1 - y0);
            if (crop.Width == rect.W && crop.Height == rect.H)
                return crop.JpegsaveBuffer(q: JpegQuality);
            using var resized = crop.Resize((double)rect.W / crop.Width, vscale: (double)rect.H / crop.Height);
            using var exact = resized.Width == rect.W && resized.Height == rect.H ? resized.Copy() : resized.Embed(0, 0, rect.W, rect.H, extend: Enums.Extend.Copy);
            return exact.JpegsaveBuffer(q: JpegQuality);
        }
        catch (VipsException e)
        {
            throw new CorruptSlideException(slide.Path, $"cannot read tile {level}/{rect.X},{rect.Y}: {VipsSetup.Clean(e.Message)}", e);
        }
    }

    /// <summary>
    /// PNG of the overlay's tile: each tile pixel takes the label of the mask pixel under its centre (labels are
    /// never interpolated), coloured by <paramref name="colours"/> (RGBA per label; alpha 0 = not drawn).
    /// </summary>
    public static byte[] OverlayTile(IReadOnlyList<Image> maskPages, double maskDownsampleToLevel0, DeepZoomGeometry geo, int level,
        (int X, int Y, int W, int H) rect, uint[] colours, string maskPath)
    {
        double perTile = geo.Scale(level) / maskDownsampleToLevel0; // mask pixels (page 0) per tile pixel
        int page = 0;
        double pageDs = 1;
        for (int p = 1; p < maskPages.Count; p++)
        {
            double ds = (double)maskPages[0].Width / maskPages[p].Width;
            if (ds <= perTile * 1.0001) { page = p; pageDs = ds; }
        }
        var source = maskPages[page];
        double f = perTile / pageDs;
        int Src(int i, int size) => Math.Clamp((int)Math.Floor((i + 0.5) * f), 0, size - 1);
        int sx0 = Src(rect.X, source.Width), sx1 = Src(rect.X + rect.W - 1, source.Width);
        int sy0 = Src(rect.Y, source.Height), sy1 = Src(rect.Y + rect.H - 1, source.Height);
        int cw = sx1 - sx0 + 1, ch = sy1 - sy0 + 1;
        byte[] labels;
        try
        {
            using var crop = source.Crop(sx0, sy0, cw, ch);
            using var band = crop.Bands == 1 ? crop.Copy() : crop.ExtractBand(0);
            labels = band.WriteToMemory<byte>();
        }
        catch (VipsException e)
        {
            throw new CorruptSlideException(maskPath, $"cannot read mask tile {level}/{rect.X},{rect.Y}: {VipsSetup.Clean(e.Message)}", e);
        }
        var rgba = new uint[rect.W * rect.H];
        var cols = new int[rect.W];
        for (int i = 0; i < rect.W; i++) cols[i] = Src(rect.X + i, source.Width) - sx0;
        for (int j = 0; j < rect.H; j++)
        {
            int row = (Src(rect.Y + j, source.Height) - sy0) * cw;
            for (int i = 0; i < rect.W; i++)
                rgba[j * rect.W + i] = colours[labels[row + cols[i]]];
        }
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(rgba.AsSpan()).ToArray();
        using var image = Image.NewFromMemory(bytes, rect.W, rect.H, 4, Enums.BandFormat.Uchar);
        return image.PngsaveBuffer(compression: 1);
    }

    /// <summary>RGBA (little-endian: R in the low byte) per label 0–255: class colours, transparent for background, hidden and unknown labels.</summary>
    public static uint[] Palette(IEnumerable<(int Id, string Colour, bool Background)> classes, IReadOnlySet<int> hidden)
    {
        var lut = new uint[256];
        foreach (var (id, colour, background) in classes)
        {
            if (id is < 0 or > 255 || background || hidden.Contains(id)) continue;
            string hex = colour.TrimStart('#');
            if (hex.Length != 6 || !uint.TryParse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint rgb)) continue;
            uint r = rgb >> 16 & 0xFF, g = rgb >> 8 & 0xFF, b = rgb & 0xFF;
            lut[id] = r | g << 8 | b << 16 | 0xFFu << 24;
        }
        return lut;
    }
}
