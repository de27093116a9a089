using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using WsiSegment.Model;
using WsiSegment.Model.Cards;
using WsiSegment.Model.Inference;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Weights;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Inference;
using WsiSegment.Stitching;
using WsiSegment.Stitching.Blending;
using WsiSegment.Stitching.Output;
using WsiSegment.Stitching.Reporting;
using WsiSegment.Stitching.Spooling;
using WsiSegment.Tiling.Grid;
using WsiSegment.Tiling.Resolution;
using WsiSegment.Tiling.Slides;
using WsiSegment.Tiling.Tissue;

namespace WsiSegment.Processor.Segmentation;

/// <summary>
/// Segments whole slides with one loaded model (loaded once, reused for every slide: the watch service keeps one).
/// Per slide: plan the resolution, find tissue, then three concurrent stages joined by bounded channels —
/// band reader (Tiling) → batched ESPNet (Model) → blending accumulator writing a label spool (Stitching) —
/// and finally the pyramidal masks, GeoJSON, thumbnail and report, staged and moved into place together.
/// </summary>
public sealed class SlideSegmenter : IDisposable
{
    private readonly SegmentOptions _options;
    private readonly LoadedModel _model;
    private readonly InferenceEngine _engine;
    private readonly ILogger _log;
    private readonly ILoggerFactory _logs;
    private readonly string _modelPath;
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private readonly SlideOutputWriters _writers;
    private readonly SegmentReportBuilder _reports;

    private SlideSegmenter(SegmentOptions options, LoadedModel model, InferenceEngine engine, string modelPath, ILoggerFactory logs)
    {
        _options = options;
        _model = model;
        _engine = engine;
        _modelPath = modelPath;
        _logs = logs;
        _log = logs.CreateLogger<SlideSegmenter>();
        _writers = new SlideOutputWriters(options, logs);
        _reports = new SegmentReportBuilder(options, model.Card, modelPath);
    }

    public ModelCard Card => _model.Card;

    /// <summary>The model's content hash (from its card): with the slide's SHA-256 it identifies a result.</summary>
    public string ModelHash => _model.Card.ContentHash ?? "";

    public SegmentOptions Options => _options;

    /// <summary>Loads the model (the bundled demo model unless <see cref="SegmentOptions.ModelPath"/> is set).</summary>
    public static SlideSegmenter Create(SegmentOptions options, ILoggerFactory logs)
    {
        options.Validate();
        string modelPath = options.ModelPath ?? BundledModel.Path;
        if (!File.Exists(modelPath))
            throw new UserError(options.ModelPath is null
                ? $"{modelPath}: the bundled demo model is missing; pass --model CHECKPOINT"
                : $"{modelPath}: model file not found");
        // Under Slurm, the CPUs allocated to the task, not the node's cores (0 = all cores otherwise).
        TorchRuntime.Initialise(options.Threads > 0 ? options.Threads : Cluster.SlurmEnvironment.CpusPerTaskNow ?? 0);
        LoadedModel model = Checkpoint.Load(modelPath);
        try
        {
            var engine = InferenceEngine.Create(model, new InferenceOptions
            {
                Device = options.Device,
                Precision = InferenceOptions.ParsePrecision(options.Precision),
            });
            logs.CreateLogger<SlideSegmenter>().LogInformation(
                "Loaded {Model} ({Architecture} p={P} q={Q}, {Classes} classes, trained at {Mpp} µm/px) on {Device}",
                modelPath, model.Card.Architecture, model.Card.P, model.Card.Q, model.Card.Classes.Count,
                model.Card.TrainedMpp?.ToString("0.###") ?? "unknown", options.Device);
            return new SlideSegmenter(options, model, engine, modelPath, logs);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Segments one slide into <paramref name="outDir"/>: STEM.mask.tif, STEM.mask.ome.tif, STEM.overlay.tif,
    /// STEM.geojson, STEM.thumb.png, STEM.tissue.png and STEM.json (written last). Nothing is left behind on failure.
    /// </summary>
    public async Task<SegmentReport> SegmentAsync(string slidePath, string outDir, IProgress<PipelineProgress>? progress, CancellationToken ct)
    {
        // One slide at a time per model: the engine's buffers and threads are shared.
        await _oneAtATime.WaitAsync(ct);
        try
        {
            return await SegmentCoreAsync(slidePath, outDir, progress, ct);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    private async Task<SegmentReport> SegmentCoreAsync(string slidePath, string outDir, IProgress<PipelineProgress>? progress, CancellationToken ct)
    {
        var total = Stopwatch.StartNew();
        var cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = new StageClock();
        var warnings = new List<string>();
        var outputs = SlideOutputs.For(slidePath, outDir);

        using var slide = clock.Time("open", () => { var s = SlideSource.Open(slidePath); try { s.Verify(); return s; } catch { s.Dispose(); throw; } });
        foreach (var warning in slide.Info.Warnings)
        {
            warnings.Add(warning);
            _log.LogWarning("{Slide}: {Warning}", Path.GetFileName(slidePath), warning);
        }
        using var hashCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var hashTask = Task.Run(() => FileHash.Sha256Async(slidePath, hashCts.Token), hashCts.Token);
        OutputStaging? staged = null;
        try
        {
            double targetMpp = _options.Mpp ?? _model.Card.TrainedMpp
                ?? throw new UserError($"{_modelPath}: the model card records no training MPP; pass --mpp");
            var plan = Plan(slide, slidePath, targetMpp);
            using var staging = new OutputStaging(outputs);
            staged = staging;
            var files = staging.Files;
            TissueMask? tissue = null;
            if (_options.TissueMask)
            {
                tissue = clock.Time("tissue", () => TissueDetector.Detect(slide, plan,
                    new TissueOptions { MinObjectAreaUm2 = _options.MinTissueObjectUm2 }, _logs.CreateLogger("tissue")));
                OutputWrite.Run(files.Tissue, () => tissue.SavePng(files.Tissue));
                // The detector's working arrays (large-object garbage) stay committed through the whole stream unless collected now.
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            }

            var grid = new PatchGrid(plan.Width, plan.Height, new PatchGridOptions
                { Tile = _options.Tile, Overlap = _options.Overlap, MinTissueFraction = _options.MinTissueFraction });
            var selection = tissue is null ? PatchSelection.All(grid) : PatchSelection.FromTissue(grid, tissue);
            _log.LogInformation("{Slide}: level {Level} x{Scale:0.###} -> {W}x{H} px at {Mpp:0.###} µm/px; {Run}/{Total} patches of {Tile} px to run",
                Path.GetFileName(slidePath), plan.Level, plan.Scale, plan.Width, plan.Height, plan.AnalysisMpp, selection.RunCount, grid.Count, grid.Tile);

            var classes = _model.Card.Classes;
            ClassPixelCounts counts;
            PatchStreamStats stream;
            using (var spool = LabelSpool.CreateTemporary(plan.Width, plan.Height, staging.StagingDir))
            {
                (counts, stream) = await StreamAsync(slide, plan, grid, selection, spool, clock,
                    progress is null ? null : new SegmentingProgress(slidePath, progress), ct);
                // The stream's memory (carry strip, activations, patch buffers) is idle while the outputs are written.
                TorchRuntime.ReleaseFreedMemory();

                progress?.Report(new PipelineProgress(slidePath, "writing", grid.Count, grid.Count, 0));
                var masks = new MaskOutputOptions { Mpp = plan.AnalysisMpp ?? targetMpp, Classes = classes, Outputs = SlideOutputWriters.MaskOutputsOf(_options) };
                warnings.AddRange(await _writers.WriteAsync(spool, files, slide, masks, plan.DownsampleToLevel0, clock, ct));
            }

            var report = _reports.Build(new SegmentReportBuilder.SlideRun(slide, await hashTask, plan, grid, selection, tissue,
                ClassStatistics.From(counts, classes, plan.AnalysisMpp), clock, stream, total.Elapsed,
                Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart, files, warnings, _engine.Precision, _engine.PrecisionDecision));
            string json = JsonSerializer.Serialize(report, JsonOutput.Options);
            await OutputWrite.RunAsync(files.Report, () => File.WriteAllTextAsync(files.Report, json, ct));
            ct.ThrowIfCancellationRequested();
            staging.Commit(order: [Path.GetFileName(files.Report)]);
            _log.LogInformation("Segmented {Slide} in {Seconds:0.0}s ({MPs:0.00} MP/s, peak RSS {RssMb} MB)",
                slidePath, report.TotalSeconds, report.MegapixelsPerSecond, report.PeakRssBytes >> 20);
            return report;
        }
        catch (OutputWriteException e) when (staged is not null && staged.Holds(e.Path))
        {
            // A write failed in the staging folder (full disk, say): name the output the user will look for.
            throw staged.Publish(e);
        }
        finally
        {
            hashCts.Cancel();
            try { await hashTask; } catch { /* the hash only matters on success */ }
        }
    }

    /// <summary>Patches from the band reader through the network into the blending accumulator, which fills the spool.</summary>
    private async Task<(ClassPixelCounts, PatchStreamStats)> StreamAsync(SlideSource slide, AnalysisPlan plan, PatchGrid grid, PatchSelection selection,
        LabelSpool spool, StageClock clock, IProgress<InferenceProgress>? progress, CancellationToken ct)
    {
        using var accumulator = new BandAccumulator(grid.Layout, _engine.Classes, spool, _options.Blend);
        PatchStreamStats stream;
        using (var analysis = AnalysisImage.Open(slide, plan))
        using (var reader = new BandReader(analysis, grid, selection))
        {
            stream = await new PatchInferer(_options.BatchSize, clock).RunAsync(token => reader.ReadPatches(null, token), grid.Count, grid.Tile,
                new EnginePredictor(_engine), new AccumulatorMerger(accumulator), progress, ct);
        }
        return (accumulator.Complete(), stream);
    }

    /// <summary>The analysis level and scale for the model's resolution.</summary>
    private AnalysisPlan Plan(SlideSource slide, string slidePath, double targetMpp)
    {
        AnalysisPlan plan;
        try
        {
            plan = ResolutionPlanner.Plan(slide, new ResolutionOptions { TargetMpp = targetMpp, AssumeMpp = _options.AssumeMpp, Level = _options.Level });
        }
        catch (MissingMppException e)
        {
            throw new UserError($"{slidePath}: {e.Message}", e);
        }
        if (plan.CoarserThanTarget)
            _log.LogWarning("{Slide}: no level is as fine as {Target} µm/px; analysing at {Mpp:0.###} µm/px", slidePath, targetMpp, plan.AnalysisMpp);
        return plan;
    }

    /// <summary>The stream's progress as the slide's, reported on the merging thread (in order with the stages after it).</summary>
    private sealed class SegmentingProgress(string slide, IProgress<PipelineProgress> to) : IProgress<InferenceProgress>
    {
        public void Report(InferenceProgress p) => to.Report(new PipelineProgress(slide, "segmenting", p.Merged, p.Total, p.PatchesPerSecond));
    }

    public void Dispose()
    {
        _engine.Dispose();
        _model.Dispose();
        _oneAtATime.Dispose();
    }
}
