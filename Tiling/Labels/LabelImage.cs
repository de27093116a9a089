using System.Globalization;
using NetVips;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Tiling.Labels;

/// <summary>A label file could not be used; the message names the file and the reason.</summary>
public sealed class LabelFileException(string path, string reason, Exception? inner = null)
    : Exception($"{path}: {reason}", inner)
{
    public string FilePath { get; } = path;
}

/// <summary>
/// A single-band uint8 label image (class ids) — a mask TIFF level, a plain TIFF or a PNG — read lazily:
/// rows are decoded on demand, never the whole image at once.
/// </summary>
public sealed class LabelImage : IDisposable
{
    private readonly Image _image;
    private bool _disposed;

    private LabelImage(string path, Image image, int level, IReadOnlyList<(int Page, int Width, int Height)> levels)
    {
        Path = path;
        _image = image;
        Level = level;
        Levels = levels;
    }

    public string Path { get; }
    public int Width => _image.Width;
    public int Height => _image.Height;
    public int Level { get; }

    /// <summary>The pages of a page-based pyramid (each smaller than the last), or just the one image.</summary>
    public IReadOnlyList<(int Page, int Width, int Height)> Levels { get; }

    /// <summary>The lazy single-band uchar image (owned: do not dispose).</summary>
    public Image Image
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _image;
        }
    }

    /// <summary>Opens level <paramref name="level"/> (a page of a page-based pyramid; 0 = full size).</summary>
    public static LabelImage Open(string path, int level = 0)
    {
        VipsSetup.EnsureInitialised();
        if (!File.Exists(path)) throw new LabelFileException(path, "no such file");
        try
        {
            using var first = Image.NewFromFile(path, access: Enums.Access.Random, failOn: Enums.FailOn.Error);
            var levels = new List<(int, int, int)> { (0, first.Width, first.Height) };
            bool tiff = (first.Contains("vips-loader") ? first.Get("vips-loader")?.ToString() : "")?.StartsWith("tiff", StringComparison.Ordinal) == true;
            int pages = first.Contains("n-pages") ? Convert.ToInt32(first.Get("n-pages"), CultureInfo.InvariantCulture) : 1;
            for (int p = 1; tiff && p < pages; p++)
            {
                using var page = Image.Tiffload(path, page: p, access: Enums.Access.Random, failOn: Enums.FailOn.Error);
                if (page.Width < levels[^1].Item2) levels.Add((p, page.Width, page.Height));
            }
            if (level < 0)
                throw new LabelFileException(path, $"level {level} does not exist");
            Image raw;
            if (level < levels.Count)
                raw = level == 0
                    ? Image.NewFromFile(path, access: Enums.Access.Random, failOn: Enums.FailOn.Error)
                    : Image.Tiffload(path, page: levels[level].Item1, access: Enums.Access.Random, failOn: Enums.FailOn.Error);
            else if (tiff && levels.Count == 1)
            {
                // An OME-TIFF-style pyramid keeps its reduced levels in SubIFDs of the first page.
                try { raw = Image.Tiffload(path, subifd: level - 1, access: Enums.Access.Random, failOn: Enums.FailOn.Error); }
                catch (VipsException e) { throw new LabelFileException(path, $"has no level {level} (neither a page nor a SubIFD)", e); }
            }
            else
                throw new LabelFileException(path, $"has {levels.Count} level(s); level {level} does not exist");
            if (raw.Bands != 1 || raw.Format != Enums.BandFormat.Uchar)
            {
                string what = $"{raw.Bands} band(s) of {raw.Format}";
                raw.Dispose();
                throw new LabelFileException(path, $"is not a label image (expected 1 band of uint8 class ids, found {what})");
            }
            return new LabelImage(path, raw, level, levels);
        }
        catch (VipsException e)
        {
            throw new LabelFileException(path, "cannot read: " + VipsSetup.Clean(e.Message), e);
        }
    }

    /// <summary>
    /// This image resampled by nearest neighbour to exactly <paramref name="width"/>×<paramref name="height"/>
    /// (each output pixel takes the label under its centre). The result is lazy and owns nothing of this one.
    /// </summary>
    public Image ResampledNearest(int width, int height)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Resample(_image, width, height);
    }

    internal static Image Resample(Image image, int width, int height)
    {
        if (width == image.Width && height == image.Height) return image.Copy();
        return ResampleNearest(image, width, height, (double)image.Width / width, (double)image.Height / height);
    }

    /// <summary>
    /// Nearest-neighbour resampling with explicit factors (input pixels per output pixel): output pixel (x, y) takes
    /// input pixel (⌊(x + ½)·fx⌋, ⌊(y + ½)·fy⌋), or 0 outside the input. An explicit index map, so the rule is exact
    /// and does not depend on an interpolator's centre convention.
    /// </summary>
    public static Image ResampleNearest(Image image, int width, int height, double fx, double fy)
    {
        if (width == image.Width && height == image.Height && fx == 1 && fy == 1) return image.Copy();
        using var xy = Image.Xyz(width, height);
        using var centres = xy.Linear([fx, fy], [0.5 * fx, 0.5 * fy]);
        using var index = centres.Floor();
        using var nearest = Interpolate.NewFromName("nearest");
        return image.Mapim(index, interpolate: nearest);
    }

    /// <summary>Decodes rows [y, y + rows) into <paramref name="labels"/> (row-major, one byte a pixel).</summary>
    public void ReadRows(int y, int rows, Span<byte> labels) => ReadRows(Path, Image, y, rows, labels);

    /// <summary>Decodes rows of any single-band uchar image; errors name <paramref name="path"/>.</summary>
    public static void ReadRows(string path, Image image, int y, int rows, Span<byte> labels)
    {
        long need = (long)image.Width * rows;
        if (labels.Length < need) throw new ArgumentException($"buffer holds {labels.Length} bytes, {need} needed", nameof(labels));
        Read(path, image, 0, y, image.Width, rows, labels);
    }

    /// <summary>Decodes a rectangle of a single-band uchar image.</summary>
    public static void Read(string path, Image image, int x, int y, int width, int height, Span<byte> labels)
    {
        try
        {
            using var crop = image.Crop(x, y, width, height);
            VipsPixels.CopyTo(crop, labels, (reason, e) => new LabelFileException(path, $"cannot decode region {x},{y} {width}x{height}: {reason}", e));
        }
        catch (VipsException e)
        {
            throw new LabelFileException(path, $"cannot decode region {x},{y} {width}x{height}: {VipsSetup.Clean(e.Message)}", e);
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _image.Dispose();
    }
}
