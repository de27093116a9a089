using System.Globalization;
using NetVips;

namespace WsiSegment.Tiling.Slides;

/// <summary>
/// One open slide. Reads through OpenSlide (libvips' openslideload) when OpenSlide recognises the file,
/// otherwise through libvips' own loaders (plain/pyramidal TIFF, OME-TIFF, PNG, JPEG...).
/// Every read fails on the first decode error instead of libvips' default of warning and returning black.
/// Level images are opened once and kept; dispose the source to release them.
/// </summary>
public sealed class SlideSource : IDisposable
{
    private readonly Image?[] _levels;
    private readonly object _gate = new();
    private bool _disposed;

    /// <summary>Coarser than this (µm per pixel) a resolution tag is a writer's default, not a scan's.</summary>
    public const double MaxPlausibleMpp = 100.0;

    private SlideSource(string path, SlideInfo info, bool viaOpenSlide, IReadOnlyList<int> tiffPages)
    {
        Path = path;
        Info = info;
        ViaOpenSlide = viaOpenSlide;
        _tiffPages = tiffPages;
        _levels = new Image?[info.Levels.Count];
    }

    /// <summary>TIFF page of each level when libvips' tiffload decodes the levels (generic TIFF, or not an OpenSlide format).</summary>
    private readonly IReadOnlyList<int> _tiffPages;

    /// <summary>True when the levels are decoded by libvips' TIFF loader although OpenSlide recognised the file.</summary>
    public bool LevelsViaTiffload => ViaOpenSlide && _tiffPages.Count == _levels.Length;

    public string Path { get; }
    public SlideInfo Info { get; private set; }
    public bool ViaOpenSlide { get; }
    public IReadOnlyList<SlideLevel> Levels => Info.Levels;
    public double? MppX => Info.MppX;
    public double? MppY => Info.MppY;

    /// <summary>Opens a slide; throws <see cref="NotASlideException"/> or <see cref="CorruptSlideException"/> naming the file.</summary>
    public static SlideSource Open(string path)
    {
        VipsSetup.EnsureInitialised();
        var limits = SlideLimits.Current;
        string full = System.IO.Path.GetFullPath(path);
        var (bytes, warnings) = SlidePreflight.Check(path, full, limits);

        string? loader = FindLoader(full);
        var viaOpenSlide = TryOpenSlide(path, full, bytes, loader);
        var source = viaOpenSlide
            ?? (loader is null
                ? throw new NotASlideException(path, "not a slide or image format that OpenSlide or libvips' allowed loaders (TIFF, JPEG, PNG) recognise")
                : OpenGeneric(path, full, bytes, loader, limits));
        if (warnings.Count > 0) source.Info = source.Info with { Warnings = warnings };
        return source;
    }

    /// <summary>
    /// Decodes a small, whole level (the smallest) and a sample of level 0 (its corners and centre, 256² each), so that
    /// a slide whose header opens but whose tiles cannot be decoded is caught up front rather than half way through an
    /// analysis: a fault in level 0's directory or tiles leaves the smallest level intact.
    /// </summary>
    public void Verify()
    {
        var smallest = Levels[^1];
        // Decode at most ~4 MP: enough to touch real tiles, bounded for huge slides without a small level.
        int w = Math.Min(smallest.Width, 2048), h = Math.Min(smallest.Height, 2048);
        var buffer = new byte[(long)w * h * 3];
        ReadRegion(smallest.Index, 0, 0, w, h, buffer);
        if (Levels.Count == 1 && w == smallest.Width && h == smallest.Height) return; // level 0 already decoded whole
        var level0 = Levels[0];
        int sw = Math.Min(level0.Width, 256), sh = Math.Min(level0.Height, 256);
        var sample = new byte[sw * sh * 3];
        int right = level0.Width - sw, bottom = level0.Height - sh;
        foreach (var (x, y) in new[] { (0, 0), (right / 2, bottom / 2), (right, 0), (0, bottom), (right, bottom) }.Distinct())
            ReadRegion(0, x, y, sw, sh, sample);
    }

    /// <summary>The RGB (3-band uchar) image of one level. Owned by the source: do not dispose it.</summary>
    public Image Level(int level)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)level >= (uint)_levels.Length)
            throw new ArgumentOutOfRangeException(nameof(level), level, $"{Path} has {Levels.Count} levels");
        lock (_gate)
        {
            return _levels[level] ??= Wrap(() => Rgb(LoadLevel(level)), "cannot open level " + level);
        }
    }

    /// <summary>Reads an RGB region of a level into <paramref name="rgb"/> (row-major, 3 bytes a pixel). Must lie inside the level.</summary>
    public void ReadRegion(int level, int x, int y, int width, int height, Span<byte> rgb)
    {
        long need = (long)width * height * 3;
        if (rgb.Length < need)
            throw new ArgumentException($"buffer holds {rgb.Length} bytes, region needs {need}", nameof(rgb));
        var img = Level(level);
        if (x < 0 || y < 0 || width <= 0 || height <= 0 || x + width > img.Width || y + height > img.Height)
            throw new ArgumentOutOfRangeException(nameof(x), $"region {x},{y} {width}x{height} is outside level {level} ({img.Width}x{img.Height}) of {Path}");
        using var region = Wrap(() => img.Crop(x, y, width, height), "cannot read region");
        VipsPixels.CopyTo(region, rgb, (reason, e) =>
            new CorruptSlideException(Path, $"pixel data cannot be decoded (level {level}, region {x},{y} {width}x{height}): {reason}", e));
    }

    /// <summary>Reads an associated image (label, macro, thumbnail) when OpenSlide lists it.</summary>
    public Image AssociatedImage(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!ViaOpenSlide || !Info.AssociatedImages.Contains(name))
            throw new ArgumentException($"{Path} has no associated image '{name}'", nameof(name));
        return Wrap(() => Rgb(Image.Openslideload(Path, associated: name, failOn: Enums.FailOn.Error, access: Enums.Access.Random)), "cannot read associated image " + name);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        lock (_gate)
        {
            foreach (var l in _levels) l?.Dispose();
            Array.Clear(_levels);
        }
    }

    private Image LoadLevel(int level)
    {
        if (ViaOpenSlide)
            return LevelsViaTiffload
                ? Image.Tiffload(Path, page: _tiffPages[level], access: Enums.Access.Random, failOn: Enums.FailOn.Error)
                : Image.Openslideload(Path, level: level, failOn: Enums.FailOn.Error, access: Enums.Access.Random);
        int page = _tiffPages.Count > level ? _tiffPages[level] : 0;
        return page == 0 && _tiffPages.Count <= 1
            ? Image.NewFromFile(Path, access: Enums.Access.Random, failOn: Enums.FailOn.Error)
            : Image.Tiffload(Path, page: page, access: Enums.Access.Random, failOn: Enums.FailOn.Error);
    }

    /// <summary>A loader's image as the level's 3-band sRGB uchar one (<see cref="RgbImage.ToRgb8"/>); the loader's image is released.</summary>
    private static Image Rgb(Image loaded)
    {
        using (loaded)
            return RgbImage.ToRgb8(loaded);
    }

    private T Wrap<T>(Func<T> action, string what)
    {
        try { return action(); }
        catch (VipsException e) { throw new CorruptSlideException(Path, $"{what}: {VipsSetup.Clean(e.Message)}", e); }
    }

    private static string? FindLoader(string full)
    {
        // libvips 8.14 still names a blocked loader (ImageMagick for a malformed TIFF); treat that as no loader.
        try { return Image.FindLoad(full) is { } l && VipsSetup.AllowedLoaders.Any(a => l.StartsWith(a, StringComparison.Ordinal)) ? l : null; }
        catch (VipsException) { return null; }
    }

    private static SlideSource? TryOpenSlide(string path, string full, long bytes, string? loader)
    {
        bool openSlideClaims = loader is not null && loader.Contains("Openslide", StringComparison.OrdinalIgnoreCase);
        Image img;
        try
        {
            img = Image.Openslideload(full, failOn: Enums.FailOn.Error, access: Enums.Access.Random);
        }
        catch (VipsException e)
        {
            if (openSlideClaims)
                throw new CorruptSlideException(path, "OpenSlide recognises the file but cannot open it: " + VipsSetup.Clean(e.Message), e);
            return null; // Not an OpenSlide format: libvips' generic loaders get their turn.
        }
        using (img)
        {
            string Prop(string name) => img.Contains(name) ? img.Get(name)?.ToString() ?? "" : "";
            double? Num(string name) => double.TryParse(Prop(name), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : null;
            int count = (int)(Num("openslide.level-count") ?? 1);
            var levels = new List<SlideLevel>(count);
            for (int i = 0; i < count; i++)
            {
                int w = (int)(Num($"openslide.level[{i}].width") ?? (i == 0 ? img.Width : 0));
                int h = (int)(Num($"openslide.level[{i}].height") ?? (i == 0 ? img.Height : 0));
                double ds = Num($"openslide.level[{i}].downsample") ?? 1.0;
                if (w <= 0 || h <= 0)
                    throw new CorruptSlideException(path, $"OpenSlide reports no size for level {i}");
                levels.Add(new SlideLevel(i, w, h, ds));
            }
            var associated = Prop("slide-associated-images")
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var info = new SlideInfo
            {
                Path = path,
                FileBytes = bytes,
                Reader = "openslide",
                Format = Prop("openslide.vendor") is { Length: > 0 } v ? v : "unknown",
                Levels = levels,
                MppX = Num("openslide.mpp-x") ?? TiffMpp(img, "x"),
                MppY = Num("openslide.mpp-y") ?? TiffMpp(img, "y"),
                ObjectivePower = Num("openslide.objective-power"),
                AssociatedImages = associated,
                Bands = 3,
            };
            return new SlideSource(path, info, viaOpenSlide: true, tiffPages: info.Format == "generic-tiff" ? DirectPages(full, levels) : []);
        }
    }

    /// <summary>
    /// For a generic tiled TIFF, the TIFF page holding each OpenSlide level (same size, 8-bit RGB), when every level
    /// has one; else none. Those levels are then decoded by libvips' tiffload, which for the same JPEG tiles costs
    /// less CPU than OpenSlide's ARGB path (README, "Why it is built this way"): reading shares the cores with the
    /// network, so this is throughput. Vendor formats keep OpenSlide.
    /// </summary>
    private static IReadOnlyList<int> DirectPages(string full, IReadOnlyList<SlideLevel> levels)
    {
        try
        {
            using var first = Image.Tiffload(full, access: Enums.Access.Random, failOn: Enums.FailOn.Error);
            int nPages = first.Contains("n-pages") ? Convert.ToInt32(first.Get("n-pages"), CultureInfo.InvariantCulture) : 1;
            var bySize = new Dictionary<(int, int), int>();
            for (int p = 0; p < nPages && bySize.Count < levels.Count; p++)
            {
                using var page = p == 0 ? first.Copy() : Image.Tiffload(full, page: p, access: Enums.Access.Random, failOn: Enums.FailOn.Error);
                if (page.Bands == 3 && page.Format == Enums.BandFormat.Uchar && page.Interpretation == Enums.Interpretation.Srgb)
                    bySize.TryAdd((page.Width, page.Height), p);
            }
            var pages = new List<int>(levels.Count);
            foreach (var level in levels)
            {
                if (!bySize.TryGetValue((level.Width, level.Height), out int page)) return [];
                pages.Add(page);
            }
            return pages;
        }
        catch (VipsException)
        {
            return []; // OpenSlide reads it; libvips' TIFF loader need not
        }
    }

    /// <summary>
    /// OpenSlide 3.4 does not turn TIFF resolution tags into mpp; it lists them as tiff.XResolution
    /// and tiff.ResolutionUnit. Use those when the vendor gave no MPP.
    /// </summary>
    private static double? TiffMpp(Image img, string axis)
    {
        string key = axis == "x" ? "tiff.XResolution" : "tiff.YResolution";
        if (!img.Contains(key) || !img.Contains("tiff.ResolutionUnit")) return null;
        if (!double.TryParse(img.Get(key)?.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var res) || res <= 0)
            return null;
        double? mpp = img.Get("tiff.ResolutionUnit")?.ToString() switch
        {
            "centimeter" => 10_000.0 / res,
            "inch" => 25_400.0 / res,
            _ => null,
        };
        // A screen default (72 dpi = 353 µm/px) is not a microscope's resolution: treat as unknown.
        return mpp is > 0 and <= MaxPlausibleMpp ? mpp : null;
    }

    private static SlideSource OpenGeneric(string path, string full, long bytes, string loader, SlideLimits limits)
    {
        Image first;
        try
        {
            first = Image.NewFromFile(full, access: Enums.Access.Random, failOn: Enums.FailOn.Error);
        }
        catch (VipsException e)
        {
            throw new CorruptSlideException(path, "cannot open: " + VipsSetup.Clean(e.Message), e);
        }
        using (first)
        {
            string shortLoader = ShortLoaderName(loader);
            // Only the header has been read so far: JPEG and PNG decode whole, so their size is the decode's size.
            if (shortLoader is not "tiff")
                SlidePreflight.CheckWholeDecode(path, shortLoader, first.Width, first.Height, first.Bands, first.Format is Enums.BandFormat.Ushort ? 2 : 1, limits);
            var levels = new List<SlideLevel> { new(0, first.Width, first.Height, 1.0) };
            var pages = new List<int> { 0 };
            // A multi-page TIFF whose later pages shrink is a page-based pyramid: its pages are levels.
            int nPages = first.Contains("n-pages") ? Convert.ToInt32(first.Get("n-pages"), CultureInfo.InvariantCulture) : 1;
            if (shortLoader == "tiff" && nPages > 1)
            {
                int prevW = first.Width;
                for (int p = 1; p < nPages; p++)
                {
                    try
                    {
                        using var page = Image.Tiffload(full, page: p, access: Enums.Access.Random, failOn: Enums.FailOn.Error);
                        if (page.Width >= prevW || page.Bands != first.Bands) continue;
                        prevW = page.Width;
                        levels.Add(new SlideLevel(levels.Count, page.Width, page.Height, (double)first.Width / page.Width));
                        pages.Add(p);
                    }
                    catch (VipsException e)
                    {
                        throw new CorruptSlideException(path, $"cannot open TIFF page {p}: {VipsSetup.Clean(e.Message)}", e);
                    }
                }
            }
            double? mpp = null;
            // libvips reports resolution in pixels per millimetre; without a unit tag it is a default, not a measurement.
            if (first.Contains("resolution-unit") && first.Xres > 0 && 1000.0 / first.Xres <= MaxPlausibleMpp)
                mpp = 1000.0 / first.Xres;
            var info = new SlideInfo
            {
                Path = path,
                FileBytes = bytes,
                Reader = shortLoader,
                Format = shortLoader,
                Levels = levels,
                MppX = mpp,
                MppY = mpp is null ? null : 1000.0 / first.Yres,
                ObjectivePower = null,
                AssociatedImages = [],
                Bands = 3,
            };
            return new SlideSource(path, info, viaOpenSlide: false, tiffPages: pages);
        }
    }

    private static string ShortLoaderName(string loader)
    {
        // "VipsForeignLoadTiffFile" -> "tiff", "VipsForeignLoadPngFile" -> "png"
        string s = loader.Replace("VipsForeignLoad", "", StringComparison.Ordinal);
        foreach (var suffix in new[] { "File", "Source", "Buffer" })
            if (s.EndsWith(suffix, StringComparison.Ordinal)) s = s[..^suffix.Length];
        return s.ToLowerInvariant() switch
        {
            "jpeg" or "jpg" => "jpeg",
            "pngspng" or "png" => "png",
            var other => other,
        };
    }
}
