using WsiSegment.Tests.Support;
using WsiSegment.Tiling.Resolution;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Tests.Tiling;

public class ResolutionPlannerTests
{
    private const string Ndpi = "test3-DAPI-2-_387_.ndpi"; // 3968×4864, levels 0.228·2^k µm, k = 0..6
    private const string Cmu = "CMU-1-Small-Region.svs";   // 2220×2967, one level, 0.499 µm

    [SharedTheory]
    [InlineData(0.25, 0, 1.0957)]   // level 0 (0.228) is the only one at or finer
    [InlineData(0.5, 1, 1.0957)]    // level 1 (0.456) ≤ 0.5 < level 2 (0.913)
    [InlineData(0.456, 1, 1.0)]     // level 1 within tolerance: used as is
    [InlineData(1.0, 2, 1.0957)]
    [InlineData(2.0, 3, 1.0957)]
    [InlineData(0.2282, 0, 1.0)]    // level 0 itself
    [InlineData(100, 6, 6.8483)]    // beyond the pyramid: the coarsest level, resampled
    public void Ndpi_picks_the_coarsest_level_at_or_finer_than_the_target(double target, int level, double scale)
    {
        using var slide = SlideSource.Open(Repo.SharedFile("slides", Ndpi));
        var plan = ResolutionPlanner.Plan(slide, new ResolutionOptions { TargetMpp = target });

        Assert.Equal(level, plan.Level);
        Assert.Equal(scale, plan.Scale, 3);
        Assert.Equal(Math.Pow(2, level), plan.LevelDownsample);
        Assert.Equal(0.228175 * Math.Pow(2, level), plan.LevelMpp!.Value, 5);
        Assert.Equal(plan.LevelDownsample * plan.Scale, plan.DownsampleToLevel0, 9);
        Assert.Equal(MppSource.Metadata, plan.MppSource);
        Assert.False(plan.CoarserThanTarget);
        Assert.True(plan.Scale >= 1);
        // The analysis image covers the level: width ≈ level width / scale.
        Assert.Equal(slide.Levels[level].Width / plan.Scale, plan.Width, 0.5 + 1e-9);
        Assert.Equal(slide.Levels[level].Height / plan.Scale, plan.Height, 0.5 + 1e-9);
        if (plan.Scale > 1) Assert.Equal(target, plan.AnalysisMpp!.Value, 9);
    }

    [SharedTheory]
    [InlineData(0.5, 1.0, 2220, 2967, false)]     // 0.499 is within 1% of 0.5: native
    [InlineData(1.0, 2.004, 1108, 1481, false)]
    [InlineData(0.25, 1.0, 2220, 2967, true)]     // finer than the scan: native, flagged
    public void Single_level_svs_resamples_or_flags(double target, double scale, int width, int height, bool coarser)
    {
        using var slide = SlideSource.Open(Repo.SharedFile("slides", Cmu));
        var plan = ResolutionPlanner.Plan(slide, new ResolutionOptions { TargetMpp = target });
        Assert.Equal(0, plan.Level);
        Assert.Equal(scale, plan.Scale, 3);
        Assert.Equal(width, plan.Width);
        Assert.Equal(height, plan.Height);
        Assert.Equal(coarser, plan.CoarserThanTarget);
        Assert.Equal(0.499 * plan.Scale, plan.AnalysisMpp!.Value, 9);
    }

    [SharedFact]
    public void Forced_level_is_read_and_resampled_to_the_target_when_finer()
    {
        using var slide = SlideSource.Open(Repo.SharedFile("slides", Ndpi));
        var plan = ResolutionPlanner.Plan(slide, new ResolutionOptions { TargetMpp = 0.5, Level = 0 });
        Assert.Equal(0, plan.Level);
        Assert.Equal(0.5 / 0.228175, plan.Scale, 4);
        var coarse = ResolutionPlanner.Plan(slide, new ResolutionOptions { TargetMpp = 0.5, Level = 3 });
        Assert.Equal(3, coarse.Level);
        Assert.Equal(1.0, coarse.Scale);
        Assert.True(coarse.CoarserThanTarget);
        Assert.Equal(496, coarse.Width);
        Assert.Equal(8.0, coarse.DownsampleToLevel0);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ResolutionPlanner.Plan(slide, new ResolutionOptions { TargetMpp = 0.5, Level = 7 }));
        Assert.Contains("7 level(s)", e.Message);
    }

    [Fact]
    public void Slide_without_mpp_fails_naming_the_file_unless_assumed_or_level_given()
    {
        using var dir = new TempDir("nompp");
        string path = dir.File("nompp.tif");
        using (var img = TilingImages.Solid(1000, 800, 200, 100, 150))
            TilingImages.SavePyramid(img, path, mpp: null);
        using var slide = SlideSource.Open(path);
        Assert.Null(slide.MppX);
        Assert.True(slide.Levels.Count >= 2);

        var e = Assert.Throws<MissingMppException>(() => ResolutionPlanner.Plan(slide, new ResolutionOptions { TargetMpp = 0.5 }));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains("--assume-mpp", e.Message);
        Assert.IsAssignableFrom<SlideException>(e);

        var assumed = ResolutionPlanner.Plan(slide, new ResolutionOptions { TargetMpp = 1.0, AssumeMpp = 0.25 });
        Assert.Equal(MppSource.Assumed, assumed.MppSource);
        Assert.Equal(2, assumed.Level); // 0.25·4 = 1.0
        Assert.Equal(1.0, assumed.Scale);
        Assert.Equal(4.0, assumed.DownsampleToLevel0);

        var native = ResolutionPlanner.Plan(slide, new ResolutionOptions { TargetMpp = 0.5, Level = 1 });
        Assert.Equal(MppSource.Unknown, native.MppSource);
        Assert.Equal(1, native.Level);
        Assert.Equal(1.0, native.Scale);
        Assert.Equal(500, native.Width);
        Assert.Null(native.LevelMpp);
        Assert.Null(native.AnalysisMpp);
        Assert.Equal(2.0, native.DownsampleToLevel0);
    }

    [Fact]
    public void Metadata_mpp_wins_over_an_assumed_one()
    {
        SlideLevel[] levels = [new(0, 1000, 1000, 1), new(1, 500, 500, 2)];
        var plan = ResolutionPlanner.Plan("x.tif", levels, 0.5, 0.5, new ResolutionOptions { TargetMpp = 1.0, AssumeMpp = 0.25 });
        Assert.Equal(MppSource.Metadata, plan.MppSource);
        Assert.Equal(1, plan.Level);
    }

    [Fact]
    public void Odd_level_sizes_use_the_pyramids_integer_step_not_openslides_average()
    {
        // boxes.tiff-like: 300×250 with a 75×62 level that OpenSlide reports as downsample 4.016.
        SlideLevel[] levels = [new(0, 300, 250, 1), new(1, 150, 125, 2), new(2, 75, 62, 4.0161290322580641), new(3, 37, 31, 8.0863121185701843)];
        Assert.Equal(4.0, ResolutionPlanner.EffectiveDownsample(levels, 2));
        Assert.Equal(8.0, ResolutionPlanner.EffectiveDownsample(levels, 3));
        // A level whose size fits no integer factor keeps the reported ratio.
        SlideLevel[] odd = [new(0, 1000, 1000, 1), new(1, 400, 400, 2.5)];
        Assert.Equal(2.5, ResolutionPlanner.EffectiveDownsample(odd, 1));
    }

    [Fact]
    public void Options_reject_nonsense()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResolutionOptions { TargetMpp = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResolutionOptions { TargetMpp = double.NaN });
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResolutionOptions { TargetMpp = 0.5, AssumeMpp = -1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResolutionOptions { TargetMpp = 0.5, Level = -1 });
    }
}
