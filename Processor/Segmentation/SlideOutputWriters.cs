using Microsoft.Extensions.Logging;
using WsiSegment.Processor.Inference;
using WsiSegment.Stitching.Output;
using WsiSegment.Stitching.Spooling;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Processor.Segmentation;

/// <summary>
/// Writes a finished label spool's outputs (masks, overlay, GeoJSON, thumbnail) under the names of
/// <see cref="SlideOutputs"/>. The writers read the spool independently; side by side, each fills the cores the
/// others leave idle (the overlay's libvips writer compresses on one thread, GeoJSON traces few classes at a time).
/// The first failure cancels the rest.
/// </summary>
public sealed class SlideOutputWriters(SegmentOptions options, ILoggerFactory logs)
{
    private readonly ILogger _log = logs.CreateLogger<SlideOutputWriters>();

    /// <summary>Writes the outputs the options ask for; returns what the user should know about them (GeoJSON left incomplete).</summary>
    public async Task<IReadOnlyList<string>> WriteAsync(LabelSpool spool, SlideOutputs files, SlideSource slide, MaskOutputOptions masks,
        double downsampleToLevel0, StageClock clock, CancellationToken ct)
    {
        var warnings = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var writers = new SiblingTasks(ct);
        var pyramids = new PyramidWriter(logs.CreateLogger<PyramidWriter>());
        string prefix = Path.Combine(files.Dir, files.Stem);
        writers.Run(() => clock.Time("write masks", () =>
            pyramids.Write(spool, prefix, masks with { Outputs = masks.Outputs & ~MaskOutputs.Overlay }, writers.Token)));
        if (masks.Outputs.HasFlag(MaskOutputs.Overlay))
            writers.Run(() => clock.Time("write overlay", () =>
                pyramids.Write(spool, prefix, masks with { Outputs = MaskOutputs.Overlay }, writers.Token)));
        writers.Run(() =>
        {
            var reduced = clock.Time("reduce labels", () => ReducedLabels.FromSpool(spool, maxSide: 2048));
            if (options.WriteGeoJson)
            {
                var regions = clock.Time("write geojson", () => GeoJsonWriter.Write(files.GeoJson, reduced, masks.Classes, downsampleToLevel0));
                foreach (var capped in regions.Where(r => r.PolygonsDropped > 0))
                {
                    string note = $"GeoJSON: class {capped.Class.Name} is too fragmented for vector output: kept its {capped.Geometry.NumGeometries} largest polygons, " +
                        $"left out {capped.PolygonsDropped} smaller ones ({capped.AreaDropped / (capped.AreaDropped + capped.Geometry.Area):P1} of its outlined area); the masks hold every pixel";
                    warnings.Enqueue(note);
                    _log.LogWarning("{Slide}: {Note}", Path.GetFileName(slide.Path), note);
                }
            }
            clock.Time("write thumbnail", () =>
            {
                // The smallest level covers the whole slide; shrink it lazily so even a big one stays cheap.
                using var thumb = slide.Level(slide.Levels.Count - 1).ThumbnailImage(512, height: 512);
                ThumbnailComposer.Write(files.Thumbnail, thumb, reduced, masks.Classes);
            });
        });
        await writers.WhenAllAsync().ConfigureAwait(false);
        return warnings.ToArray();
    }

    /// <summary>The mask files the options ask for.</summary>
    public static MaskOutputs MaskOutputsOf(SegmentOptions o)
    {
        var outputs = MaskOutputs.Mask;
        if (o.WriteOmeTiff) outputs |= MaskOutputs.OmeMask;
        if (o.WriteOverlay) outputs |= MaskOutputs.Overlay;
        return outputs;
    }
}
