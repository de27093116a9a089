using NetVips;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Tiling.Resolution;

/// <summary>
/// The slide at analysis resolution as a lazy libvips image: the plan's level, reduced by 1/Scale with a
/// Lanczos-3 kernel (antialiased: the kernel widens with the shrink) when Scale &gt; 1, the level itself otherwise.
/// Nothing is decoded until a region of <see cref="Image"/> is computed, and then only the level tiles under it.
/// Pixel mapping: analysis pixel x has its centre at level coordinate (x + 0.5)·Scale − 0.5 (libvips' centre
/// convention), i.e. it covers level pixels [x·Scale, (x+1)·Scale).
/// </summary>
public sealed class AnalysisImage : IDisposable
{
    private readonly Image _image;
    private bool _disposed;

    private AnalysisImage(SlideSource slide, AnalysisPlan plan, Image image)
    {
        Slide = slide;
        Plan = plan;
        _image = image;
    }

    public SlideSource Slide { get; }
    public AnalysisPlan Plan { get; }
    public int Width => Plan.Width;
    public int Height => Plan.Height;

    /// <summary>The lazy 3-band uchar image, exactly <see cref="Width"/>×<see cref="Height"/>. Owned: do not dispose.</summary>
    public Image Image
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _image;
        }
    }

    /// <summary>Builds the (lazy) analysis image of a slide. The slide must outlive it.</summary>
    public static AnalysisImage Open(SlideSource slide, AnalysisPlan plan)
    {
        ArgumentNullException.ThrowIfNull(slide);
        ArgumentNullException.ThrowIfNull(plan);
        var level = slide.Level(plan.Level);
        try
        {
            return new AnalysisImage(slide, plan, Build(level, plan));
        }
        catch (VipsException e)
        {
            throw new CorruptSlideException(slide.Path, $"cannot build the analysis image (level {plan.Level}, scale {plan.Scale:0.####}): {VipsSetup.Clean(e.Message)}", e);
        }
    }

    /// <summary>Reads an RGB region (inside the image) into <paramref name="rgb"/>, row-major, 3 bytes a pixel.</summary>
    public void ReadRegion(int x, int y, int width, int height, Span<byte> rgb)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (x < 0 || y < 0 || width <= 0 || height <= 0 || x + width > Width || y + height > Height)
            throw new ArgumentOutOfRangeException(nameof(x), $"region {x},{y} {width}x{height} is outside the analysis image ({Width}x{Height}) of {Slide.Path}");
        using var crop = _image.Crop(x, y, width, height);
        VipsRead.Into(crop, rgb, Slide.Path, $"analysis region {x},{y} {width}x{height}");
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _image.Dispose();
    }

    private static Image Build(Image level, AnalysisPlan plan)
    {
        if (plan.Scale == 1.0)
            return level.Copy(); // Our own reference, so disposing it never touches the slide's level.
        Image current = level;
        var owned = new List<Image>();
        try
        {
            double scale = plan.Scale;
            // Large factors: an exact integer box shrink first (cheap, corner-aligned), Lanczos for the residual (≥ 2).
            int box = scale >= 4 ? (int)Math.Floor(scale / 2) : 1;
            if (box > 1)
            {
                current = current.Shrink(box, box);
                owned.Add(current);
            }
            current = current.Reduce(scale / box, scale / box, kernel: Enums.Kernel.Lanczos3);
            owned.Add(current);
            if (current.Width != plan.Width || current.Height != plan.Height)
            {
                // Rounding of odd sizes differs by a pixel at most: pad by copying the edge, or cut.
                current = current.Embed(0, 0, plan.Width, plan.Height, extend: Enums.Extend.Copy);
                owned.Add(current);
            }
            owned.Remove(current);
            return current;
        }
        finally
        {
            foreach (var i in owned) i.Dispose();
        }
    }
}
