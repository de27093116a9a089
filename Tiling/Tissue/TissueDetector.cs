using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NetVips;
using WsiSegment.Tiling.Resolution;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Tiling.Tissue;

/// <summary>
/// Finds tissue on a low-resolution rendering of the slide (≈ <see cref="TissueOptions.WorkingMpp"/> µm/px, from the
/// nearest pyramid level at or finer than that, shrunk).
/// <list type="bullet">
/// <item>Bright background (brightfield): tissue = (HSV saturation &gt; Otsu(S) or grey &lt; Otsu(grey)), each Otsu
/// threshold clamped to a plausible range so a blank slide yields nothing and an all-tissue slide is not split in two;
/// minus glass (grey ≥ WhiteLevel) and scanner padding (brightest channel &lt; BlackLevel).</item>
/// <item>Dark background (fluorescence, e.g. DAPI): tissue = brightness (max channel) &gt; Otsu(brightness), clamped.
/// Under brightfield rules a fluorescence slide would be "dark enough" everywhere, i.e. all tissue; Auto detects the
/// dark background from the median brightness.</item>
/// </list>
/// Then closing (a wider disk on dark backgrounds) and opening with a disk, removal of objects under MinObjectAreaUm2 and filling of holes under MaxHoleAreaUm2.
/// </summary>
public static class TissueDetector
{
    /// <summary>Reduced levels narrower or shorter than this are not used (see the OpenSlide note in <see cref="Detect"/>).</summary>
    public const int MinLevelSide = 512;

    public static TissueMask Detect(SlideSource slide, AnalysisPlan plan, TissueOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(slide);
        ArgumentNullException.ThrowIfNull(plan);
        options = (options ?? new TissueOptions()).Validate();
        logger ??= NullLogger.Instance;

        bool nominal = plan.Level0Mpp is null;
        double mpp0 = plan.Level0Mpp ?? options.NominalMpp;
        var levels = slide.Levels;
        var l0 = levels[0];
        // Level-0 pixels per mask pixel: the working resolution, but coarse enough for at most MaxWorkingSide pixels
        // (memory) and fine enough for MinWorkingSide.
        int longSide = Math.Max(l0.Width, l0.Height);
        double wanted = Math.Max(options.WorkingMpp / mpp0, longSide / (double)options.MaxWorkingSide);
        double cap = Math.Max(1.0, longSide / (double)options.MinWorkingSide);
        wanted = Math.Clamp(wanted, 1.0, cap);
        int level = 0;
        for (int i = 1; i < levels.Count; i++)
        {
            // OpenSlide 3.4.1 (with Debian 12's libtiff) renders a deflate/LZW generic-TIFF level that is shorter than
            // one tile as plain white: libvips-written pyramids go down to such levels. Stay on levels of a safe size.
            if (Math.Min(levels[i].Width, levels[i].Height) < MinLevelSide) continue;
            double ds = ResolutionPlanner.EffectiveDownsample(levels, i);
            if (ds <= wanted * 1.01 && ds >= ResolutionPlanner.EffectiveDownsample(levels, level)) level = i;
        }
        double levelDs = ResolutionPlanner.EffectiveDownsample(levels, level);
        double shrink = Math.Max(1.0, wanted / levelDs);

        var (rgb, width, height) = ReadWorkingImage(slide, level, shrink);
        double maskDs = levelDs * levels[level].Width / width; // Level-0 pixels per mask pixel, as rendered.
        double maskMpp = mpp0 * maskDs;

        var background = options.Background == TissueBackground.Auto ? GuessBackground(rgb) : options.Background;
        var mask = background == TissueBackground.Dark ? ThresholdDark(rgb, options, out var t) : ThresholdBright(rgb, options, out t);

        double slideArea = (double)l0.Width * l0.Height * mpp0 * mpp0;
        int limit = Math.Min(width, height) / 16; // A disk wider than the image would erase it.
        int radius = Math.Min(limit, (int)Math.Round(options.CleanupRadiusUm / maskMpp));
        int closeRadius = background == TissueBackground.Dark ? Math.Min(limit, (int)Math.Round(options.DarkCleanupRadiusUm / maskMpp)) : radius;
        if (closeRadius > 0) mask = BinaryMorphology.Close(mask, width, height, closeRadius);
        if (radius > 0) mask = BinaryMorphology.Open(mask, width, height, radius);
        double minArea = Math.Min(options.MinObjectAreaUm2, 0.01 * slideArea);
        BinaryMorphology.RemoveSmallObjects(mask, width, height, (long)Math.Ceiling(minArea / (maskMpp * maskMpp)));
        BinaryMorphology.FillSmallHoles(mask, width, height, (long)Math.Floor(options.MaxHoleAreaUm2 / (maskMpp * maskMpp)));

        var result = new TissueMask(mask, width, height, maskMpp, maskDs / plan.DownsampleToLevel0, plan.Width, plan.Height, nominal, background);
        logger.LogDebug("Tissue of {Slide}: level {Level} shrunk {Shrink:0.##} to {Width}x{Height} at {Mpp:0.##} µm/px{Nominal}, {Background} background, thresholds {Thresholds}, radius {Radius}px, {Fraction:P1} tissue ({Area:0.##} mm²)",
            slide.Path, level, shrink, width, height, maskMpp, nominal ? " (nominal)" : "", background, t, radius,
            (double)result.TissuePixels / (width * height), result.TissueAreaMm2);
        return result;
    }

    private static (byte[] Rgb, int Width, int Height) ReadWorkingImage(SlideSource slide, int level, double shrink)
    {
        var img = slide.Level(level);
        Image? resized = null;
        try
        {
            // Box-and-Lanczos resize: averaging is what we want for a thumbnail (fine nuclei become a smooth tint).
            resized = shrink > 1.01 ? img.Resize(1.0 / shrink) : img.Copy();
            var rgb = new byte[(long)resized.Width * resized.Height * 3];
            VipsPixels.CopyTo(resized, rgb, (reason, e) =>
                new CorruptSlideException(slide.Path, $"pixel data cannot be decoded (tissue thumbnail from level {level}): {reason}", e));
            return (rgb, resized.Width, resized.Height);
        }
        catch (VipsException e)
        {
            throw new CorruptSlideException(slide.Path, $"cannot render the tissue thumbnail from level {level}: {VipsSetup.Clean(e.Message)}", e);
        }
        finally
        {
            resized?.Dispose();
        }
    }

    /// <summary>Median of the brightest channel below half scale: a dark (fluorescence) background.</summary>
    public static TissueBackground GuessBackground(ReadOnlySpan<byte> rgb)
    {
        Span<long> hist = stackalloc long[256];
        for (int i = 0; i + 2 < rgb.Length; i += 3)
            hist[Math.Max(rgb[i], Math.Max(rgb[i + 1], rgb[i + 2]))]++;
        long half = (rgb.Length / 3 + 1) / 2, seen = 0;
        for (int v = 0; v < 256; v++)
        {
            seen += hist[v];
            if (seen >= half) return v < 128 ? TissueBackground.Dark : TissueBackground.Bright;
        }
        return TissueBackground.Bright;
    }

    private static byte[] ThresholdBright(byte[] rgb, TissueOptions o, out string thresholds)
    {
        int n = rgb.Length / 3;
        var sat = new byte[n];
        var grey = new byte[n];
        var max = new byte[n];
        var hs = new long[256];
        var hg = new long[256];
        for (int p = 0, i = 0; p < n; p++, i += 3)
        {
            int r = rgb[i], g = rgb[i + 1], b = rgb[i + 2];
            int mx = Math.Max(r, Math.Max(g, b)), mn = Math.Min(r, Math.Min(g, b));
            sat[p] = (byte)(mx == 0 ? 0 : (mx - mn) * 255 / mx);
            grey[p] = (byte)((299 * r + 587 * g + 114 * b + 500) / 1000);
            max[p] = (byte)mx;
            hs[sat[p]]++;
            hg[grey[p]]++;
        }
        int ts = Math.Clamp(Otsu.Threshold(hs), o.MinSaturationThreshold, o.MaxSaturationThreshold);
        int tg = Math.Clamp(Otsu.Threshold(hg), o.MinGreyThreshold, o.MaxGreyThreshold);
        thresholds = $"S>{ts} or grey<={tg}";
        var mask = new byte[n];
        for (int p = 0; p < n; p++)
        {
            bool tissue = (sat[p] > ts || grey[p] <= tg) && grey[p] < o.WhiteLevel && max[p] >= o.BlackLevel;
            mask[p] = tissue ? (byte)255 : (byte)0;
        }
        return mask;
    }

    private static byte[] ThresholdDark(byte[] rgb, TissueOptions o, out string thresholds)
    {
        int n = rgb.Length / 3;
        var v = new byte[n];
        var hv = new long[256];
        for (int p = 0, i = 0; p < n; p++, i += 3)
        {
            v[p] = Math.Max(rgb[i], Math.Max(rgb[i + 1], rgb[i + 2]));
            hv[v[p]]++;
        }
        int tv = Math.Clamp(Otsu.Threshold(hv), o.MinSignalThreshold, o.MaxSignalThreshold);
        thresholds = $"V>{tv}";
        var mask = new byte[n];
        for (int p = 0; p < n; p++) mask[p] = v[p] > tv ? (byte)255 : (byte)0;
        return mask;
    }
}
