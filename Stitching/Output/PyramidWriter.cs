using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NetVips;
using WsiSegment.Stitching.Spooling;

namespace WsiSegment.Stitching.Output;

/// <summary>
/// Turns a finished label spool into the pyramidal TIFFs viewers open (see DESIGN.md "Masks that viewers open"):
/// X.mask.tif (tiled, lossless, page pyramid with NewSubfileType = 1, mode-shrunk, MPP in the resolution tags, no
/// ImageDescription), X.mask.ome.tif (same labels, SubIFD pyramid, OME-XML) and X.overlay.tif (RGB class colours).
/// libvips streams the spool's rows (as a PGM through a .NET stream, sequentially), so memory does not grow with the
/// slide and writing can run while the labels are still being computed.
/// </summary>
public sealed class PyramidWriter(ILogger<PyramidWriter>? logger = null)
{
    /// <summary>Above this uncompressed size (all levels) files are written as BigTIFF.</summary>
    public const long BigTiffThreshold = 2L << 30;

    private readonly ILogger _log = logger ?? NullLogger<PyramidWriter>.Instance;

    /// <summary>
    /// Writes the requested outputs for the labels in <paramref name="spool"/> as <paramref name="outputStem"/>.mask.tif,
    /// .mask.ome.tif and .overlay.tif, all at once, each streaming the spool's rows as they become final: started
    /// on a progressive spool before the labels are computed, the writing overlaps the computing. All or nothing:
    /// if one output fails (or the spool does), none is left behind.
    /// </summary>
    public MaskOutputFiles Write(LabelSpool spool, string outputStem, MaskOutputOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(spool);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        VipsCheck.Ensure();

        var kinds = new List<(Kind Kind, string Path)>();
        if (options.Outputs.HasFlag(MaskOutputs.Mask)) kinds.Add((Kind.Mask, outputStem + ".mask.tif"));
        if (options.Outputs.HasFlag(MaskOutputs.OmeMask)) kinds.Add((Kind.Ome, outputStem + ".mask.ome.tif"));
        if (options.Outputs.HasFlag(MaskOutputs.Overlay)) kinds.Add((Kind.Overlay, outputStem + ".overlay.tif"));

        using var failed = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // One thread each: every save blocks in its reads until the rows it needs are final.
        var saves = kinds.Select(k => Task.Factory.StartNew(() =>
        {
            try { return Save(spool, k.Path, options, k.Kind, failed.Token); }
            catch { failed.Cancel(); throw; }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        try
        {
            Task.WaitAll(saves);
        }
        catch (AggregateException e)
        {
            foreach (var (_, path) in kinds) try { File.Delete(path); } catch (IOException) { }
            ct.ThrowIfCancellationRequested();
            var root = e.InnerExceptions.FirstOrDefault(x => x is not OperationCanceledException) ?? e.InnerExceptions[0];
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(root);
            throw;
        }
        string? Find(Kind kind) => kinds.Where(k => k.Kind == kind).Select(k => k.Path).FirstOrDefault();
        return new MaskOutputFiles(Find(Kind.Mask), Find(Kind.Ome), Find(Kind.Overlay));
    }

    private enum Kind { Mask, Ome, Overlay }

    private string Save(LabelSpool spool, string path, MaskOutputOptions o, Kind kind, CancellationToken ct)
    {
        int width = spool.Width, height = spool.Height;
        var started = System.Diagnostics.Stopwatch.StartNew();
        int bands = kind == Kind.Overlay ? 3 : 1;
        bool bigTiff = o.BigTiff ?? (long)width * height * bands * 4 / 3 > BigTiffThreshold;
        double pxPerMm = 1000.0 / o.Mpp;
        try
        {
            AtomicFile.Write(path, temp =>
            {
                var rows = spool.OpenRowStream(ct);
                using var pgm = new PgmStream(rows, width, height);
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, rows.Stopped);
                using var loaded = Image.NewFromStream(pgm, access: Enums.Access.Sequential, failOn: Enums.FailOn.Truncated);
                using var labels = loaded.Copy(interpretation: Enums.Interpretation.Bw);
                using var image = kind switch
                {
                    Kind.Overlay => Colourise(labels, o.Classes),
                    Kind.Ome => labels.Mutate(m => m.Set(GValue.GStrType, "image-description",
                        OmeXml.ForLabels(width, height, o.Mpp, o.Mpp, o.ImageName, o.Classes))),
                    _ => labels.Copy(),
                };
                var args = new VOption
                {
                    { "tile", true },
                    { "tile_width", o.TileSize },
                    { "tile_height", o.TileSize },
                    { "pyramid", true },
                    { "bigtiff", bigTiff },
                    { "xres", pxPerMm },
                    { "yres", pxPerMm },
                    { "resunit", Enums.ForeignTiffResunit.Cm },
                };
                if (kind == Kind.Overlay)
                {
                    args.Add("compression", o.OverlayCompression == OverlayCompression.Jpeg ? Enums.ForeignTiffCompression.Jpeg : Enums.ForeignTiffCompression.Deflate);
                    if (o.OverlayCompression == OverlayCompression.Jpeg) args.Add("Q", o.JpegQuality);
                    else args.Add("predictor", Enums.ForeignTiffPredictor.Horizontal);
                }
                else
                {
                    args.Add("compression", o.Compression switch
                    {
                        MaskCompression.Lzw => Enums.ForeignTiffCompression.Lzw,
                        MaskCompression.Zstd => Enums.ForeignTiffCompression.Zstd,
                        _ => Enums.ForeignTiffCompression.Deflate,
                    });
                    args.Add("predictor", Enums.ForeignTiffPredictor.Horizontal);
                    // Averaging invents labels that do not exist: each reduced pixel is the most common label.
                    args.Add("region_shrink", Enums.RegionShrink.Mode);
                }
                if (kind == Kind.Ome) args.Add("subifd", true); // Bio-Formats wants the pyramid in SubIFDs
                else if (VipsCheck.HasKeep) args.Add("keep", Enums.ForeignKeep.None); // no metadata (no ImageDescription)
                else args.Add("strip", true);

                // Killing the pipeline is the way out libvips survives (see LabelSpool.RowStream).
                image.SetProgress(null, stop.Token);
                try
                {
                    Operation.Call("tiffsave", args, image, temp);
                }
                catch (VipsException) when (rows.Failure is not null)
                {
                    // The labels stopped coming: that, not libvips' "truncated" error, is the reason.
                }
                if (rows.Failure is { } failure) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
                ct.ThrowIfCancellationRequested();
                if (!rows.Complete) throw new IOException($"libvips stopped reading the labels of {path} early");
            });
        }
        catch (VipsException e)
        {
            ct.ThrowIfCancellationRequested();
            throw new IOException($"cannot write {path}: {VipsCheck.Clean(e.Message)}", e);
        }
        _log.LogInformation("Wrote {File} ({Width}×{Height}, {Megabytes:0.0} MB) in {Seconds:0.0}s",
            path, width, height, new FileInfo(path).Length / 1e6, started.Elapsed.TotalSeconds);
        return path;
    }

    /// <summary>Labels → RGB through a 256-entry colour table.</summary>
    private static Image Colourise(Image labels, LabelClasses classes)
    {
        using var lut = Image.NewFromMemory(classes.ColourTable(), 256, 1, 3, Enums.BandFormat.Uchar);
        using var rgb = labels.Maplut(lut);
        return rgb.Copy(interpretation: Enums.Interpretation.Srgb);
    }
}
