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
        VipsPixels.CopyTo(crop, rgb, (reason, e) =>
            new CorruptSlideException(Slide.Path, $"pixel data cannot be decoded (analysis region {x},{y} {width}x{height}): {reason}", e));
    }

    /// <summary>
    /// Pixels to append to a length so that round((length + p) / s)·s lands within 0.005 px of length + p
    /// (the best p up to 256 when none does: a shift of at most half the remaining error).
    /// </summary>
    internal static int PadToMultiple(int length, double s)
    {
        int best = 0;
        double bestError = double.MaxValue;
        for (int p = 0; p <= 256; p++)
        {
            double l = length + p;
            double error = Math.Abs(Math.Round(l / s, MidpointRounding.AwayFromZero) * s - l);
            if (error < bestError) { bestError = error; best = p; }
            if (error < 0.005) break;
        }
        return best;
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
        using var chain = new VipsChain();
        Image current = level;
        double scale = plan.Scale;
        // Large factors: an exact integer box shrink first (cheap, corner-aligned), Lanczos for the residual (≥ 2).
        int box = scale >= 4 ? (int)Math.Floor(scale / 2) : 1;
        if (box > 1)
            current = chain.Add(current.Shrink(box, box));
            // libvips' reduce centres its output grid on the input: when out·s ≠ in it shifts the samples by
            // (out·s − in)/2 input pixels. Padding the bottom/right (copies of the edge) to a length that is a
            // near-multiple of s removes that shift and keeps the origin exact: analysis pixel x samples level
            // position (x + 0.5)·Scale − 0.5.
        double residual = scale / box;
        int padX = PadToMultiple(current.Width, residual), padY = PadToMultiple(current.Height, residual);
        if (padX > 0 || padY > 0)
            current = chain.Add(current.Embed(0, 0, current.Width + padX, current.Height + padY, extend: Enums.Extend.Copy));
        current = chain.Add(current.Reduce(residual, residual, kernel: Enums.Kernel.Lanczos3));
        // The padding above adds a few pixels; rounding may leave one short: cut, or copy the edge.
        if (current.Width != plan.Width || current.Height != plan.Height)
            current = chain.Add(current.Embed(0, 0, plan.Width, plan.Height, extend: Enums.Extend.Copy));
        return chain.Keep(current);
    }
}
