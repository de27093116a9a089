using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using WsiSegment.Core.Scores;
using WsiSegment.Model;
using WsiSegment.Model.Cards;
using WsiSegment.Model.Inference;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Weights;
using WsiSegment.Processor.Cli;
using WsiSegment.Stitching.Blending;
using WsiSegment.Stitching.Output;
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

    private SlideSegmenter(SegmentOptions options, LoadedModel model, InferenceEngine engine, string modelPath, ILoggerFactory logs)
    {
        _options = options;
        _model = model;
        _engine = engine;
        _modelPath = modelPath;
        _logs = logs;
        _log = logs.CreateLogger<SlideSegmenter>();
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
        var warnings = new System.Collections.Concurrent.ConcurrentQueue<string>();
        string stem = SlideStem(slidePath);

        using var slide = clock.Time("open", () => { var s = SlideSource.Open(slidePath); try { s.Verify(); return s; } catch { s.Dispose(); throw; } });
        foreach (var warning in slide.Info.Warnings)
        {
            warnings.Enqueue(warning);
            _log.LogWarning("{Slide}: {Warning}", Path.GetFileName(slidePath), warning);
        }
        using var hashCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var hashTask = Task.Run(() => FileHash.Sha256Async(slidePath, hashCts.Token), hashCts.Token);
        OutputStaging? staged = null;
        try
        {
            double targetMpp = _options.Mpp ?? _model.Card.TrainedMpp
                ?? throw new UserError($"{_modelPath}: the model card records no training MPP; pass --mpp");
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

            using var staging = new OutputStaging(outDir, stem);
            staged = staging;
            TissueMask? tissue = null;
            if (_options.TissueMask)
            {
                tissue = clock.Time("tissue", () => TissueDetector.Detect(slide, plan,
                    new TissueOptions { MinObjectAreaUm2 = _options.MinTissueObjectUm2 }, _logs.CreateLogger("tissue")));
                tissue.SavePng(staging.Staged(stem + ".tissue.png"));
                // The detector's working arrays (hundreds of MB for a big slide) are large-object garbage. The stream
                // allocates too little managed memory to trigger the gen-2 collection that frees them, and even then
                // the GC keeps the emptied regions committed: resident dead weight through the whole stream that
                // grew with the slide (3 × 55 MB at 40,000 px). An aggressive collection frees and decommits them.
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            }

            var grid = new PatchGrid(plan.Width, plan.Height, new PatchGridOptions
            {
                Tile = _options.Tile,
                Overlap = _options.Overlap,
                MinTissueFraction = _options.MinTissueFraction,
            });
            var selection = tissue is null ? PatchSelection.All(grid) : PatchSelection.FromTissue(grid, tissue);
            _log.LogInformation("{Slide}: level {Level} x{Scale:0.###} -> {W}x{H} px at {Mpp:0.###} µm/px; {Run}/{Total} patches of {Tile} px to run",
                Path.GetFileName(slidePath), plan.Level, plan.Scale, plan.Width, plan.Height, plan.AnalysisMpp, selection.RunCount, grid.Count, grid.Tile);

            int classes = _engine.Classes;
            ClassPixelCounts counts;
            SegmentReport.StreamSection stream;
            using (var spool = LabelSpool.CreateTemporary(plan.Width, plan.Height, staging.StagingDir))
            {
                using var accumulator = new BandAccumulator(grid.Layout, classes, spool, _options.Blend);
                using (var analysis = AnalysisImage.Open(slide, plan))
                using (var reader = new BandReader(analysis, grid, selection))
                {
                    stream = await RunStagesAsync(slidePath, reader, accumulator, selection, clock, progress, ct);
                }
                counts = accumulator.Complete();
                // The stream's memory (carry strip, activations, patch buffers) is idle while the outputs are written.
                TorchRuntime.ReleaseFreedMemory();

                progress?.Report(new PipelineProgress(slidePath, "writing", grid.Count, grid.Count, 0));
                var maskOptions = new MaskOutputOptions
                {
                    Mpp = plan.AnalysisMpp ?? targetMpp,
                    Classes = _model.Card.Classes,
                    Outputs = MaskOutputsOf(_options),
                };
                // The label pyramids, the overlay and the vector/thumbnail outputs read the finished spool independently;
                // side by side, each fills the cores the others leave idle (the overlay's libvips writer compresses on
                // one thread, GeoJSON traces few classes at a time). The first failure cancels the rest.
                using var writers = new SiblingTasks(ct);
                var pyramids = new PyramidWriter(_logs.CreateLogger<PyramidWriter>());
                writers.Run(() => clock.Time("write masks", () =>
                    pyramids.Write(spool, staging.Staged(stem), maskOptions with { Outputs = maskOptions.Outputs & ~MaskOutputs.Overlay }, writers.Token)));
                if (maskOptions.Outputs.HasFlag(MaskOutputs.Overlay))
                    writers.Run(() => clock.Time("write overlay", () =>
                        pyramids.Write(spool, staging.Staged(stem), maskOptions with { Outputs = MaskOutputs.Overlay }, writers.Token)));
                writers.Run(() =>
                {
                    var reduced = clock.Time("reduce labels", () => ReducedLabels.FromSpool(spool, maxSide: 2048));
                    if (_options.WriteGeoJson)
                    {
                        var regions = clock.Time("write geojson", () => GeoJsonWriter.Write(staging.Staged(stem + ".geojson"), reduced, maskOptions.Classes, plan.DownsampleToLevel0));
                        foreach (var capped in regions.Where(r => r.PolygonsDropped > 0))
                        {
                            string note = $"GeoJSON: class {capped.Class.Name} is too fragmented for vector output: kept its {capped.Geometry.NumGeometries} largest polygons, " +
                                $"left out {capped.PolygonsDropped} smaller ones ({capped.AreaDropped / (capped.AreaDropped + capped.Geometry.Area):P1} of its outlined area); the masks hold every pixel";
                            warnings.Enqueue(note);
                            _log.LogWarning("{Slide}: {Note}", Path.GetFileName(slidePath), note);
                        }
                    }
                    clock.Time("write thumbnail", () =>
                    {
                        // The smallest level covers the whole slide; shrink it lazily so even a big one stays cheap.
                        using var thumb = slide.Level(slide.Levels.Count - 1).ThumbnailImage(512, height: 512);
                        ThumbnailComposer.Write(staging.Staged(stem + ".thumb.png"), thumb, reduced, maskOptions.Classes);
                    });
                });
                await writers.WhenAllAsync().ConfigureAwait(false);
            }

            string sha = await hashTask;
            var report = BuildReport(slide, plan, grid, selection, counts, tissue, clock, stream, total.Elapsed,
                Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart, sha, stem);
            report = report with { Warnings = warnings.ToArray() };
            await File.WriteAllTextAsync(staging.Staged(stem + ".json"), JsonSerializer.Serialize(report, JsonOutput.Options), ct);
            ct.ThrowIfCancellationRequested();
            staging.Commit(order: [stem + ".json"]);
            _log.LogInformation("Segmented {Slide} in {Seconds:0.0}s ({MPs:0.00} MP/s, peak RSS {RssMb} MB)",
                slidePath, report.TotalSeconds, report.MegapixelsPerSecond, report.PeakRssBytes >> 20);
            return report;
        }
        catch (IOException e) when (staged?.Names(e.Message) == true)
        {
            // A write failed in the staging folder (full disk, say): name the output the user will look for.
            throw new IOException(staged.Publicly(e.Message), e);
        }
        catch (UnauthorizedAccessException e) when (staged?.Names(e.Message) == true)
        {
            throw new UnauthorizedAccessException(staged.Publicly(e.Message), e); // a writer that lost permission (GeoJSON's File.Create)
        }
        finally
        {
            hashCts.Cancel();
            try { await hashTask; } catch { /* the hash only matters on success */ }
        }
    }

    /// <summary>The three concurrent stages. Any failure cancels the others and surfaces as the one exception.
    /// Returns the stream's wall time and where inference stood idle.</summary>
    private async Task<SegmentReport.StreamSection> RunStagesAsync(string slidePath, BandReader reader, BandAccumulator accumulator, PatchSelection selection,
        StageClock clock, IProgress<PipelineProgress>? progress, CancellationToken ct)
    {
        using var stages = new SiblingTasks(ct);
        var token = stages.Token;
        int batch = _options.BatchSize, tile = reader.Grid.Tile;
        int totalPatches = reader.Grid.Count;
        var patches = Channel.CreateBounded<Patch>(new BoundedChannelOptions(batch * 2) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true });
        var results = Channel.CreateBounded<BatchResult>(new BoundedChannelOptions(2) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true });
        var started = Stopwatch.StartNew();
        var waits = new InferenceWaits();

        async Task Read()
        {
            try
            {
                using var e = reader.ReadPatches(null, token).GetEnumerator();
                while (true)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    bool more = e.MoveNext();
                    clock.Add("read", Stopwatch.GetElapsedTime(t0));
                    if (!more) break;
                    var p = e.Current;
                    try { await patches.Writer.WriteAsync(p, token); }
                    catch { p.Dispose(); throw; }
                }
                patches.Writer.Complete();
            }
            catch (Exception ex)
            {
                patches.Writer.TryComplete(ex);
                stages.CancelAll();
                throw;
            }
        }

        // Inference runs on ONE dedicated thread with blocking channel calls: libtorch's OpenMP keeps a thread team
        // per calling thread, so hopping between pool threads (as awaits do) spins up competing teams and was 4x slower.
        void Infer()
        {
            var pending = new List<Patch>(batch * 2);
            var input = new byte[(long)batch * tile * tile * 3];
            try
            {
                var reader = patches.Reader;
                while (waits.ForPatches(() => reader.WaitToReadAsync(token).AsTask().GetAwaiter().GetResult()))
                {
                    while (reader.TryRead(out var p))
                    {
                        pending.Add(p);
                        if (pending.Count(x => !x.Skipped) == batch)
                            Flush();
                    }
                }
                Flush();
                results.Writer.Complete();
            }
            catch (Exception ex)
            {
                foreach (var p in pending) p.Dispose();
                results.Writer.TryComplete(ex);
                stages.CancelAll();
                throw;
            }

            void Flush()
            {
                if (pending.Count == 0) return;
                var run = pending.Where(p => !p.Skipped).ToList();
                ScoreBatch? scores = null;
                if (run.Count > 0)
                {
                    long patchBytes = (long)tile * tile * 3;
                    for (int i = 0; i < run.Count; i++)
                        run[i].Rgb.Span.CopyTo(input.AsSpan((int)(i * patchBytes), (int)patchBytes));
                    long t0 = Stopwatch.GetTimestamp();
                    scores = _engine.Predict(input.AsSpan(0, (int)(run.Count * patchBytes)), run.Count, tile, tile, ScoreKind.Logits);
                    clock.Add("inference", Stopwatch.GetElapsedTime(t0));
                    waits.Started();
                }
                var positions = pending.Select(p => (p.Position, p.Skipped)).ToArray();
                foreach (var p in pending) p.Dispose();
                pending.Clear();
                try { waits.ForStitcher(() => results.Writer.WriteAsync(new BatchResult(positions, scores), token).AsTask().GetAwaiter().GetResult()); }
                catch { scores?.Dispose(); throw; }
            }
        }

        async Task Stitch()
        {
            int done = 0;
            try
            {
                await foreach (var r in results.Reader.ReadAllAsync(token))
                {
                    long t0 = Stopwatch.GetTimestamp();
                    using (r.Scores)
                    {
                        int k = 0;
                        foreach (var (pos, skipped) in r.Positions)
                        {
                            if (skipped) accumulator.Skip(pos.Row, pos.Col);
                            else accumulator.Aggregate(pos.Row, pos.Col, r.Scores!.Image(k++), r.Scores.Layout);
                            done++;
                        }
                    }
                    clock.Add("stitch", Stopwatch.GetElapsedTime(t0));
                    double rate = done / Math.Max(1e-3, started.Elapsed.TotalSeconds);
                    progress?.Report(new PipelineProgress(slidePath, "segmenting", done, totalPatches, rate));
                }
            }
            catch
            {
                stages.CancelAll();
                throw;
            }
        }

        stages.Add(Task.Run(Read, token));
        stages.Add(Task.Factory.StartNew(Infer, token, TaskCreationOptions.LongRunning, TaskScheduler.Default));
        stages.Add(Task.Run(Stitch, token));
        try
        {
            await stages.WhenAllAsync();
            return waits.Report(started.Elapsed);
        }
        finally
        {
            // Patches and scores still queued when a stage failed release their buffers.
            while (patches.Reader.TryRead(out var left)) left.Dispose();
            while (results.Reader.TryRead(out var scored)) scored.Scores?.Dispose();
        }
    }

    private sealed record BatchResult((PatchPosition Position, bool Skipped)[] Positions, ScoreBatch? Scores);

    private SegmentReport BuildReport(SlideSource slide, AnalysisPlan plan, PatchGrid grid, PatchSelection selection, ClassPixelCounts counts,
        TissueMask? tissue, StageClock clock, SegmentReport.StreamSection stream, TimeSpan elapsed, TimeSpan cpu, string sha, string stem)
    {
        double? mpp = plan.AnalysisMpp;
        long totalPixels = Math.Max(1, counts.Total);
        var classes = _model.Card.Classes.Select((c, i) => new SegmentReport.ClassArea(
            i, c.Name, c.Colour, counts.Counts[i],
            mpp is { } m ? Math.Round(counts.Counts[i] * m * m / 1e6, 6) : null,
            Math.Round((double)counts.Counts[i] / totalPixels, 6))).ToList();
        var outputs = new Dictionary<string, string>();
        foreach (var (key, suffix) in new[] { ("mask", ".mask.tif"), ("omeMask", ".mask.ome.tif"), ("overlay", ".overlay.tif"), ("geojson", ".geojson"), ("thumbnail", ".thumb.png"), ("tissue", ".tissue.png") })
            outputs[key] = stem + suffix;
        var level0 = slide.Levels[0];
        return new SegmentReport
        {
            Slide = new SegmentReport.SlideSection(Path.GetFullPath(slide.Path), sha, slide.Info.Format, level0.Width, level0.Height, slide.MppX, slide.Info.FileBytes),
            Model = new SegmentReport.ModelSection(Path.GetFullPath(_modelPath), ModelHash, _model.Card.Architecture, _model.Card.P, _model.Card.Q, _model.Card.TrainedMpp, _model.Card.Description),
            Analysis = new SegmentReport.AnalysisSection(plan.Level, plan.LevelDownsample, plan.Scale, plan.DownsampleToLevel0, mpp, plan.MppSource.ToString(),
                plan.Width, plan.Height, grid.Tile, grid.Overlap, _options.BatchSize, _options.Blend.ToString().ToLowerInvariant(), _options.Device, _engine.Precision.ToString().ToLowerInvariant(), tissue is not null),
            Classes = classes,
            TissueAreaMm2 = tissue is null ? null : Math.Round(tissue.TissueAreaMm2, 6),
            Patches = new SegmentReport.PatchCounts(grid.Count, selection.RunCount, selection.SkippedCount),
            StageSeconds = clock.Seconds(),
            Stream = stream,
            TotalSeconds = Math.Round(elapsed.TotalSeconds, 3),
            CpuSeconds = Math.Round(cpu.TotalSeconds, 3),
            MegapixelsPerSecond = Math.Round((double)plan.Width * plan.Height / 1e6 / Math.Max(1e-3, elapsed.TotalSeconds), 3),
            PeakRssBytes = ProcessMemory.PeakRssBytes(),
            Runtime = new SegmentReport.RuntimeSection(TorchRuntime.Threads, Environment.ProcessorCount,
                TorchRuntime.AllocatorTuned, Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX"), TorchRuntime.FlushesDenormals),
            PrecisionAuto = SegmentReport.PrecisionAutoSection.Of(_engine.PrecisionDecision),
            Slurm = Cluster.SlurmEnvironment.Current,
            Outputs = outputs,
            Software = "wsi-segment " + (Assembly.GetEntryAssembly()?.GetName().Version?.ToString(3) ?? "dev"),
            Finished = DateTimeOffset.UtcNow,
        };
    }

    /// <summary>File name without its slide extension(s): "a.b.svs" → "a.b", "x.ome.tif" → "x".</summary>
    public static string SlideStem(string path)
    {
        string name = Path.GetFileName(path);
        if (name.EndsWith(".ome.tif", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".ome.tiff", StringComparison.OrdinalIgnoreCase))
            name = name[..name.LastIndexOf(".ome.", StringComparison.OrdinalIgnoreCase)];
        else
            name = Path.GetFileNameWithoutExtension(name);
        return name.Length == 0 ? "slide" : name;
    }

    private static MaskOutputs MaskOutputsOf(SegmentOptions o)
    {
        var outputs = MaskOutputs.Mask;
        if (o.WriteOmeTiff) outputs |= MaskOutputs.OmeMask;
        if (o.WriteOverlay) outputs |= MaskOutputs.Overlay;
        return outputs;
    }

    public void Dispose()
    {
        _engine.Dispose();
        _model.Dispose();
        _oneAtATime.Dispose();
    }
}
