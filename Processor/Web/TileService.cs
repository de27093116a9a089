using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace WsiSegment.Processor.Web;

/// <summary>
/// Answers tile requests: parses and range-checks the coordinates (400 or 404, never an exception), serves from
/// the byte-bounded cache, renders otherwise with at most a few renders at once (bounded memory), and names each
/// tile with an ETag built from the files' identity (path, size, mtime), so a re-segmented slide gets new ones.
/// </summary>
public sealed partial class TileService(SlideCatalog catalog, OpenSlides open, TileCache cache, ILogger<TileService> log)
{
    private readonly SemaphoreSlim _renders = new(Math.Max(2, Environment.ProcessorCount * 2));

    public enum Layer { Slide, Overlay }

    public sealed record Tile(byte[] Body, string ContentType, string ETag);

    public static bool TryLayer(string name, out Layer layer)
    {
        layer = name == "overlay" ? Layer.Overlay : Layer.Slide;
        return name is "slide" or "overlay";
    }

    public static DeepZoomGeometry Geometry(SlideEntry e) => new(e.Report.Slide.Width, e.Report.Slide.Height);

    [GeneratedRegex(@"^(\d{1,7})_(\d{1,7})\.(jpeg|jpg|png)$")]
    private static partial Regex TileName();

    /// <summary>Status code and tile (when 200). <paramref name="hide"/> is the overlay's comma list of hidden class ids.</summary>
    public async Task<(int Status, Tile? Tile, string? Error)> GetAsync(string id, string layerName, string levelText, string tileName, string? hide,
        string? ifNoneMatch, CancellationToken ct)
    {
        if (!TryLayer(layerName, out var layer)) return (404, null, "no such layer");
        var m = TileName().Match(tileName);
        if (levelText.Length is 0 or > 3 || !levelText.All(char.IsAsciiDigit) || !int.TryParse(levelText, out int level) || !m.Success) return (400, null, "malformed tile coordinates");
        int col = int.Parse(m.Groups[1].Value), row = int.Parse(m.Groups[2].Value);
        string ext = m.Groups[3].Value;
        if ((layer == Layer.Slide) != (ext is "jpeg" or "jpg")) return (404, null, "wrong tile format for this layer");
        if (!TryHidden(hide, out var hidden)) return (400, null, "malformed hide list");
        var entry = catalog.Find(id);
        if (entry is null) return (404, null, "no such slide");
        if (layer == Layer.Slide ? entry.SlidePath is null : entry.MaskPath is null) return (404, null, "this slide's " + layerName + " is not available");
        var geo = Geometry(entry);
        if (geo.Tile(level, col, row) is not { } rect) return (404, null, "tile outside the pyramid");

        string hideKey = string.Join(',', hidden.Order());
        string key = $"{entry.Id}/{entry.Version}/{layerName}/{level}/{col}/{row}/{hideKey}";
        string etag = $"\"{entry.Version}-{layerName[0]}{level}-{col}-{row}{(hideKey.Length > 0 ? "-h" + hideKey.Replace(',', '.') : "")}\"";
        string type = layer == Layer.Slide ? "image/jpeg" : "image/png";
        if (ifNoneMatch is not null && ifNoneMatch.Split(',').Any(t => t.Trim() == etag)) return (304, new Tile([], type, etag), null);
        if (cache.Get(key) is { } cached) return (200, new Tile(cached, type, etag), null);

        await _renders.WaitAsync(ct);
        try
        {
            // Rendering is CPU and native I/O: off the request thread, so Kestrel's threads keep accepting.
            byte[] body = await Task.Run(() =>
            {
                using var handle = open.Acquire(entry);
                return layer == Layer.Slide
                    ? TileRenderer.SlideTile(handle.Slide!, geo, level, rect)
                    : TileRenderer.OverlayTile(handle.MaskPages, entry.Report.Analysis.DownsampleToLevel0, geo, level, rect,
                        TileRenderer.Palette(entry.Report.Classes.Select(c => (c.Id, c.Colour, ReportClasses.IsBackground(c))), hidden), entry.MaskPath!);
            }, ct);
            cache.Put(key, body);
            return (200, new Tile(body, type, etag), null);
        }
        catch (WsiSegment.Tiling.Slides.SlideException e)
        {
            log.LogWarning("Tile {Layer} {Level}/{Col}_{Row} of {Slide} failed: {Reason}", layerName, level, col, row, entry.Name, e.Message);
            return (500, null, "the slide cannot be read here");
        }
        finally
        {
            _renders.Release();
        }
    }

    private static bool TryHidden(string? text, out HashSet<int> hidden)
    {
        hidden = [];
        if (string.IsNullOrEmpty(text)) return true;
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, out int v) || v is < 0 or > 255) return false;
            hidden.Add(v);
        }
        return true;
    }
}
