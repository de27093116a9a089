using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NetVips;
using WsiSegment.Stitching.Spooling;
using WsiSegment.Core.Classes;

namespace WsiSegment.Stitching.Output;

/// <summary>
/// Turns a finished label spool into the pyramidal TIFFs viewers open (see DESIGN.md "Masks that viewers open"):
/// X.mask.tif (tiled, lossless, page pyramid with NewSubfileType = 1, mode-shrunk, MPP in the resolution tags, no
/// ImageDescription), X.mask.ome.tif (same labels, SubIFD pyramid, OME-XML) and X.overlay.tif (RGB class colours).
/// libvips streams the spool (its raw loader maps windows of rows, not the file), so memory does not grow with the slide.
/// </summary>
public sealed class PyramidWriter(ILogger<PyramidWriter>? logger = null)
{
    /// <summary>Above this uncompressed size (all levels) files are written as BigTIFF.</summary>
    public const long BigTiffThreshold = 2L << 30;

    private readonly ILogger _log = logger ?? NullLogger<PyramidWriter>.Instance;

    /// <summary>Writes the requested outputs for the labels in <paramref name="spool"/> as
    /// <paramref name="outputStem"/>.mask.tif, .mask.ome.tif and .overlay.tif.</summary>
    public MaskOutputFiles Write(LabelSpool spool, string outputStem, MaskOutputOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(spool);
        return Write(spool.Path, spool.Width, spool.Height, outputStem, options, ct);
    }

    /// <summary>As <see cref="Write(LabelSpool, string, MaskOutputOptions, CancellationToken)"/> for a raw uint8 file
    /// (row-major <paramref name="width"/> × <paramref name="height"/>).</summary>
    public MaskOutputFiles Write(string spoolPath, int width, int height, string outputStem, MaskOutputOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        VipsCheck.Ensure();
        long expected = (long)width * height;
        var info = new FileInfo(spoolPath);
        if (!info.Exists || info.Length != expected)
            throw new IOException($"label spool {spoolPath} should hold {width}×{height} = {expected} bytes, found {(info.Exists ? info.Length : 0)}");

        string? mask = null, ome = null, overlay = null;
        var names = SlideOutputs.AtPrefix(outputStem);
        var written = new List<string>();
        try
        {
            if (options.Compression == MaskCompression.Deflate && (options.Outputs & (MaskOutputs.Mask | MaskOutputs.OmeMask)) != 0)
            {
                (mask, ome) = SaveLabels(spoolPath, width, height, names, options, ct);
                if (mask is not null) written.Add(mask);
                if (ome is not null) written.Add(ome);
            }
            else
            {
                // LZW and zstd go through libvips' writer (its mode shrink and codecs).
                if (options.Outputs.HasFlag(MaskOutputs.Mask))
                    written.Add(mask = Save(spoolPath, width, height, names.Mask, options, Kind.Mask, ct));
                if (options.Outputs.HasFlag(MaskOutputs.OmeMask))
                    written.Add(ome = Save(spoolPath, width, height, names.OmeMask, options, Kind.Ome, ct));
            }
            if (options.Outputs.HasFlag(MaskOutputs.Overlay))
                written.Add(overlay = Save(spoolPath, width, height, names.Overlay, options, Kind.Overlay, ct));
        }
        catch
        {
            // All or nothing: a run that failed half-way leaves no outputs behind.
            foreach (var f in written) try { File.Delete(f); } catch (IOException) { }
            throw;
        }
        return new MaskOutputFiles(mask, ome, overlay);
    }

    private enum Kind { Mask, Ome, Overlay }

    /// <summary>
    /// The label pyramids (deflate) with our own encoder: one pass over the spool, each tile compressed once for both
    /// files, 2×2 mode in C#. libvips' writer compressed each file on one thread and built its mode pyramid per file,
    /// the largest cost after the network on a small machine (README, "Why it is built this way").
    /// </summary>
    private (string? Mask, string? Ome) SaveLabels(string spoolPath, int width, int height, SlideOutputs names, MaskOutputOptions o, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        string? mask = o.Outputs.HasFlag(MaskOutputs.Mask) ? names.Mask : null;
        string? ome = o.Outputs.HasFlag(MaskOutputs.OmeMask) ? names.OmeMask : null;
        var finals = new[] { mask, ome }.OfType<string>().ToList();
        bool bigTiff = o.BigTiff ?? (long)width * height * 4 / 3 > BigTiffThreshold;
        double pxPerCm = 10_000.0 / o.Mpp;
        string current = finals[0];
        try
        {
            AtomicFile.WriteAll(finals, temps =>
            {
                var files = new List<TiledTiffFile>();
                try
                {
                    for (int i = 0; i < finals.Count; i++)
                    {
                        current = finals[i];
                        files.Add(new TiledTiffFile(temps[i], bigTiff));
                    }
                    current = finals[0];
                    var levels = LabelPyramidEncoder.Encode(spoolPath, width, height, o.TileSize, files, ct);
                    for (int i = 0; i < finals.Count; i++)
                    {
                        current = finals[i];
                        bool isOme = finals[i] == ome;
                        var directories = levels.Select((l, k) => new TiffDirectory(l.Width, l.Height, o.TileSize, l.Offsets, l.ByteCounts,
                            Reduced: k > 0, pxPerCm, Description: isOme && k == 0 ? OmeXml.ForLabels(width, height, o.Mpp, o.Mpp, o.ImageName, o.Classes) : null)).ToList();
                        files[i].Finish(directories, asSubIfds: isOme);
                        files[i].Dispose();
                    }
                }
                finally
                {
                    foreach (var f in files) f.Dispose();
                }
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw OutputWriteException.From(current, e);
        }
        foreach (var final in finals)
            _log.LogInformation("Wrote {File} ({Width}×{Height}, {Megabytes:0.0} MB) in {Seconds:0.0}s",
                final, width, height, new FileInfo(final).Length / 1e6, started.Elapsed.TotalSeconds);
        return (mask, ome);
    }

    private string Save(string spoolPath, int width, int height, string path, MaskOutputOptions o, Kind kind, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        int bands = kind == Kind.Overlay ? 3 : 1;
        bool bigTiff = o.BigTiff ?? (long)width * height * bands * 4 / 3 > BigTiffThreshold;
        double pxPerMm = 1000.0 / o.Mpp;
        try
        {
            AtomicFile.Write(path, temp =>
            {
                using var labels = Image.Rawload(spoolPath, width, height, 1, format: Enums.BandFormat.Uchar,
                    interpretation: Enums.Interpretation.Bw);
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

                if (ct.CanBeCanceled) image.SetProgress(null, ct);
                // Through a target that keeps write errors from libvips (a failed TIFF save crashes libvips 8.14).
                using (var target = new SoftFailFileTarget(temp, path))
                {
                    Operation.Call("tiffsave_target", args, image, target.Target);
                    target.ThrowIfFailed();
                }
                ct.ThrowIfCancellationRequested();
            });
        }
        catch (VipsException e)
        {
            ct.ThrowIfCancellationRequested();
            throw VipsCheck.WriteError(path, e);
        }
        _log.LogInformation("Wrote {File} ({Width}×{Height}, {Megabytes:0.0} MB) in {Seconds:0.0}s",
            path, width, height, new FileInfo(path).Length / 1e6, started.Elapsed.TotalSeconds);
        return path;
    }

    /// <summary>Labels → RGB through a 256-entry colour table.</summary>
    private static Image Colourise(Image labels, ClassTable classes)
    {
        using var lut = Image.NewFromMemory(classes.ColourTable(), 256, 1, 3, Enums.BandFormat.Uchar);
        using var rgb = labels.Maplut(lut);
        return rgb.Copy(interpretation: Enums.Interpretation.Srgb);
    }
}
