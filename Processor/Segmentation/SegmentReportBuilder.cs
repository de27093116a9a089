using System.Reflection;
using WsiSegment.Model.Cards;
using WsiSegment.Model.Inference;
using WsiSegment.Model.Runtime;
using WsiSegment.Processor.Inference;
using WsiSegment.Stitching.Output;
using WsiSegment.Stitching.Reporting;
using WsiSegment.Tiling.Grid;
using WsiSegment.Tiling.Resolution;
using WsiSegment.Tiling.Slides;
using WsiSegment.Tiling.Tissue;

namespace WsiSegment.Processor.Segmentation;

/// <summary>Builds the STEM.json report of one slide from what the run found, measured and wrote.</summary>
public sealed class SegmentReportBuilder(SegmentOptions options, ModelCard card, string modelPath)
{
    /// <summary>What one slide's run produced, for the report.</summary>
    public sealed record SlideRun(
        SlideSource Slide, string Sha256, AnalysisPlan Plan, PatchGrid Grid, PatchSelection Selection, TissueMask? Tissue,
        ClassStatistics Areas, StageClock Clock, PatchStreamStats Stream, TimeSpan Elapsed, TimeSpan Cpu,
        SlideOutputs Written, IReadOnlyList<string> Warnings, InferencePrecision Precision, PrecisionDecision? PrecisionAuto);

    /// <summary>The report; its outputs are the files of <see cref="SlideRun.Written"/> that exist (named relative to it).</summary>
    public SegmentReport Build(SlideRun run)
    {
        var (slide, plan, grid) = (run.Slide, run.Plan, run.Grid);
        var classes = run.Areas.Classes.Select(a => new SegmentReport.ClassArea(
            a.Label, a.Name, card.Classes[a.Label].Colour, a.Pixels,
            a.AreaMm2 is { } mm2 ? Math.Round(mm2, 6) : null, Math.Round(a.FractionOfImage, 6))).ToList();
        var outputs = run.Written.Named().Where(o => File.Exists(o.Path))
            .ToDictionary(o => o.Key, o => Path.GetFileName(o.Path));
        var level0 = slide.Levels[0];
        double seconds = run.Elapsed.TotalSeconds;
        return new SegmentReport
        {
            Slide = new SegmentReport.SlideSection(Path.GetFullPath(slide.Path), run.Sha256, slide.Info.Format, level0.Width, level0.Height, slide.MppX, slide.Info.FileBytes),
            Model = new SegmentReport.ModelSection(Path.GetFullPath(modelPath), card.ContentHash ?? "", card.Architecture, card.P, card.Q, card.TrainedMpp, card.Description),
            Analysis = new SegmentReport.AnalysisSection(plan.Level, plan.LevelDownsample, plan.Scale, plan.DownsampleToLevel0, plan.AnalysisMpp, plan.MppSource.ToString(),
                plan.Width, plan.Height, grid.Tile, grid.Overlap, options.BatchSize, options.Blend.ToString().ToLowerInvariant(), options.Device, run.Precision.ToString().ToLowerInvariant(), run.Tissue is not null),
            Classes = classes,
            TissueAreaMm2 = run.Tissue is null ? null : Math.Round(run.Tissue.TissueAreaMm2, 6),
            Patches = new SegmentReport.PatchCounts(grid.Count, run.Selection.RunCount, run.Selection.SkippedCount),
            StageSeconds = run.Clock.Seconds(),
            Stream = new SegmentReport.StreamSection(run.Stream.Seconds, run.Stream.FillSeconds, run.Stream.WaitedForPatchesSeconds, run.Stream.WaitedForMergerSeconds),
            TotalSeconds = Math.Round(seconds, 3),
            CpuSeconds = Math.Round(run.Cpu.TotalSeconds, 3),
            MegapixelsPerSecond = Math.Round((double)plan.Width * plan.Height / 1e6 / Math.Max(1e-3, seconds), 3),
            PeakRssBytes = ProcessMemory.PeakRssBytes(),
            Runtime = new SegmentReport.RuntimeSection(TorchRuntime.Threads, Environment.ProcessorCount,
                TorchRuntime.AllocatorTuned, Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX"), TorchRuntime.FlushesDenormals),
            PrecisionAuto = SegmentReport.PrecisionAutoSection.Of(run.PrecisionAuto),
            Slurm = Cluster.SlurmEnvironment.Current,
            Outputs = outputs,
            Software = "wsi-segment " + (Assembly.GetEntryAssembly()?.GetName().Version?.ToString(3) ?? "dev"),
            Warnings = run.Warnings,
            Finished = DateTimeOffset.UtcNow,
        };
    }
}
