using WsiSegment.Tiling.Slides;

namespace WsiSegment.Tiling.Resolution;

/// <summary>
/// Chooses the pyramid level and resample factor for analysing a slide at a target MPP:
/// the coarsest level that is at or finer than the target (within <see cref="ResolutionOptions.Tolerance"/>),
/// then a down-sample by Scale = target / level MPP (≥ 1). Pure arithmetic on the slide's metadata: reads no pixels.
/// </summary>
public static class ResolutionPlanner
{
    public static AnalysisPlan Plan(SlideSource slide, ResolutionOptions options) =>
        Plan(slide.Path, slide.Levels, slide.MppX, slide.MppY, options);

    /// <summary>Plans from metadata alone (what <see cref="Plan(SlideSource, ResolutionOptions)"/> uses).</summary>
    /// <exception cref="MissingMppException">No MPP in the file, no <see cref="ResolutionOptions.AssumeMpp"/> and no <see cref="ResolutionOptions.Level"/>.</exception>
    public static AnalysisPlan Plan(string path, IReadOnlyList<SlideLevel> levels, double? mppX, double? mppY, ResolutionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (levels.Count == 0)
            throw new SlideException(path, "the slide has no levels");
        if (options.Level is int forced && forced >= levels.Count)
            throw new ArgumentOutOfRangeException(nameof(options), forced, $"{path} has {levels.Count} level(s) (0..{levels.Count - 1}); level {forced} does not exist");

        (double? mpp0, MppSource source) = Level0Mpp(mppX, mppY, options.AssumeMpp);
        double target = options.TargetMpp, slack = 1 + options.Tolerance;

        if (mpp0 is null)
        {
            if (options.Level is not int level)
                throw new MissingMppException(path);
            // No calibration: the forced level at its native resolution.
            return Build(path, levels, level, mpp0: null, target: null, scale: 1.0, source, coarser: false);
        }

        int chosen;
        if (options.Level is int forcedLevel)
            chosen = forcedLevel;
        else
        {
            // Coarsest level at or finer than the target; level 0 when even that is coarser.
            chosen = 0;
            for (int i = 0; i < levels.Count; i++)
                if (mpp0.Value * EffectiveDownsample(levels, i) <= target * slack
                    && EffectiveDownsample(levels, i) >= EffectiveDownsample(levels, chosen))
                    chosen = i;
        }
        double levelMpp = mpp0.Value * EffectiveDownsample(levels, chosen);
        double scale = target / levelMpp;
        bool coarser = scale < 1.0 / slack;
        if (scale <= slack) scale = 1.0; // Within tolerance (or coarser): use the level as is; never up-sample.
        return Build(path, levels, chosen, mpp0, target, scale, source, coarser);
    }

    /// <summary>
    /// Level-0 pixels per pixel of a level. OpenSlide reports width-and-height-averaged ratios (4.016 for a 300×250
    /// slide's 75×62 level) that carry the writer's rounding of odd sizes; when the level's size agrees with an
    /// integer factor (floor or ceil of level-0 size / n, both axes) that factor is the pyramid's true step.
    /// </summary>
    public static double EffectiveDownsample(IReadOnlyList<SlideLevel> levels, int level)
    {
        if (level == 0) return 1.0;
        var l = levels[level];
        var l0 = levels[0];
        double ds = l.Downsample > 0 ? l.Downsample : (double)l0.Width / l.Width;
        long n = (long)Math.Round(ds);
        if (n >= 1 && Math.Abs(ds - n) <= 0.02 * n
            && Math.Abs(l.Width - (double)l0.Width / n) <= 1.0 && Math.Abs(l.Height - (double)l0.Height / n) <= 1.0)
            return n;
        return ds;
    }

    private static (double? Mpp, MppSource Source) Level0Mpp(double? mppX, double? mppY, double? assume)
    {
        double? meta = (mppX, mppY) switch
        {
            ( > 0, > 0) => Math.Sqrt(mppX.Value * mppY.Value), // Square pixels in practice; the geometric mean otherwise.
            ( > 0, _) => mppX,
            (_, > 0) => mppY,
            _ => null,
        };
        if (meta is not null) return (meta, MppSource.Metadata);
        if (assume is not null) return (assume, MppSource.Assumed);
        return (null, MppSource.Unknown);
    }

    private static AnalysisPlan Build(string path, IReadOnlyList<SlideLevel> levels, int level, double? mpp0, double? target,
        double scale, MppSource source, bool coarser)
    {
        var l = levels[level];
        double ds = EffectiveDownsample(levels, level);
        // Same rounding as libvips' reduce/resize (round to nearest), at least one pixel.
        int width = scale == 1.0 ? l.Width : Math.Max(1, (int)Math.Round(l.Width / scale, MidpointRounding.AwayFromZero));
        int height = scale == 1.0 ? l.Height : Math.Max(1, (int)Math.Round(l.Height / scale, MidpointRounding.AwayFromZero));
        return new AnalysisPlan
        {
            SlidePath = path,
            Level = level,
            LevelDownsample = ds,
            LevelMpp = mpp0 * ds,
            TargetMpp = target,
            Scale = scale,
            Width = width,
            Height = height,
            DownsampleToLevel0 = ds * scale,
            MppSource = source,
            CoarserThanTarget = coarser,
        };
    }
}
