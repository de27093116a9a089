using NetVips;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Tiling.Phantoms;

/// <summary>The two files of a written phantom.</summary>
public sealed record PhantomFiles(string Slide, string Labels)
{
    /// <summary>The files a phantom of <paramref name="seed"/> is written to in <paramref name="dir"/>.</summary>
    public static PhantomFiles For(string dir, int seed) =>
        new(Path.Combine(dir, $"phantom-{seed}.tif"), Path.Combine(dir, $"phantom-{seed}.labels.tif"));

    /// <summary>Files of the same names in <paramref name="dir"/>.</summary>
    public PhantomFiles In(string dir) => new(Path.Combine(dir, Path.GetFileName(Slide)), Path.Combine(dir, Path.GetFileName(Labels)));

    /// <summary>Both files are there (they are renamed into place only when complete, so both there means whole).</summary>
    public bool Exist => File.Exists(Slide) && File.Exists(Labels);
}

/// <summary>
/// Writes a phantom as an OpenSlide generic-tiff (tiled 256, JPEG, pyramid in the main IFD chain, resolution tags)
/// and its ground truth as a label TIFF laid out like our masks (tiled 512, deflate + horizontal predictor,
/// page pyramid shrunk by mode). Each file is written under a temporary name and renamed when complete.
/// </summary>
public static class PhantomWriter
{
    public const int JpegQuality = 90;

    /// <param name="progress">Receives (file being written, percent done).</param>
    public static PhantomFiles Write(PhantomOptions options, string outDir, Action<string, int>? progress = null,
        CancellationToken ct = default)
    {
        options.Validate();
        VipsSetup.EnsureInitialised();
        Directory.CreateDirectory(outDir);
        var files = PhantomFiles.For(outDir, options.Seed);
        using var phantom = PhantomGenerator.Create(options);
        SaveBoth(phantom.Rgb, phantom.Labels, files, options.Mpp, progress, ct);
        return files;
    }

    /// <summary>
    /// Writes a phantom <paramref name="across"/> × <paramref name="down"/> times the size of <paramref name="source"/>
    /// by repeating its slide and its labels, at its MPP, in the same formats. For runs that measure how cost scales
    /// with size, where content does not matter: it streams at the speed of decoding and encoding, while generating
    /// that many pixels of procedural texture takes far longer.
    /// </summary>
    public static PhantomFiles WriteMosaic(PhantomFiles source, int across, int down, double mpp, string outDir,
        Action<string, int>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (across < 1 || down < 1) throw new ArgumentOutOfRangeException(nameof(across), $"mosaic {across}×{down} must be at least 1×1");
        if (!(mpp >= 0.1 && mpp <= 10)) throw new ArgumentOutOfRangeException(nameof(mpp), mpp, "MPP must be between 0.1 and 10 µm per pixel");
        VipsSetup.EnsureInitialised();
        Directory.CreateDirectory(outDir);
        var files = source.In(outDir);
        using var slide = OpenWhole(source.Slide);
        using var labels = OpenWhole(source.Labels);
        using var bigSlide = slide.Replicate(across, down);
        using var bigLabels = labels.Replicate(across, down);
        SaveBoth(bigSlide, bigLabels, files, mpp, progress, ct);
        return files;
    }

    private static Image OpenWhole(string path)
    {
        try { return Image.NewFromFile(path); } // random access: the mosaic reads the source once per repeat
        catch (VipsException e) { throw new IOException($"{path}: cannot read: {VipsSetup.Clean(e.Message)}", e); }
    }

    private static void SaveBoth(Image rgb, Image labels, PhantomFiles files, double mpp, Action<string, int>? progress, CancellationToken ct)
    {
        double pxPerMm = 1000.0 / mpp; // libvips takes pixels per millimetre and converts for resunit cm
        Save(rgb, files.Slide, progress, ct, (img, path) => img.Tiffsave(path,
            compression: Enums.ForeignTiffCompression.Jpeg, q: JpegQuality,
            tile: true, tileWidth: 256, tileHeight: 256, pyramid: true,
            resunit: Enums.ForeignTiffResunit.Cm, xres: pxPerMm, yres: pxPerMm,
            bigtiff: NeedsBigTiff(rgb)));
        Save(labels, files.Labels, progress, ct, (img, path) => img.Tiffsave(path,
            compression: Enums.ForeignTiffCompression.Deflate, predictor: Enums.ForeignTiffPredictor.Horizontal,
            tile: true, tileWidth: 512, tileHeight: 512, pyramid: true, regionShrink: Enums.RegionShrink.Mode,
            resunit: Enums.ForeignTiffResunit.Cm, xres: pxPerMm, yres: pxPerMm,
            bigtiff: NeedsBigTiff(labels)));
    }

    // Classic TIFF offsets are 32-bit; compressed phantoms are far smaller than raw, but be safe past ~2 GB raw.
    private static bool NeedsBigTiff(Image image) => (long)image.Width * image.Height * image.Bands > 2_000_000_000L;

    private static void Save(Image image, string path, Action<string, int>? progress, CancellationToken ct, Action<Image, string> save)
    {
        string temp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.partial");
        try
        {
            // A copy so progress/cancellation hooks attach to this save only.
            using var copy = image.Copy();
            copy.SetProgress(new Reporter(Path.GetFileName(path), progress), ct);
            try
            {
                save(copy, temp);
            }
            catch (VipsException e)
            {
                ct.ThrowIfCancellationRequested();
                throw new IOException($"{path}: cannot write: {VipsSetup.Clean(e.Message)}", e);
            }
            ct.ThrowIfCancellationRequested();
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private sealed class Reporter(string name, Action<string, int>? sink) : IProgress<int>
    {
        private int _last = -1;

        public void Report(int value)
        {
            if (sink is null || value == _last) return;
            _last = value;
            sink(name, value);
        }
    }
}
