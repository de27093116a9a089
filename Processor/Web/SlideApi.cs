namespace WsiSegment.Processor.Web;

/// <summary>The JSON the pages read: a line per slide for the index, everything the slide view needs for one slide.</summary>
public static class SlideApi
{
    public static object Summary(SlideEntry e)
    {
        var r = e.Report;
        var pct = ReportClasses.PercentOfTissue(r.Classes);
        return new
        {
            id = e.Id,
            name = e.Name,
            url = "/slide/" + e.Id,
            width = r.Slide.Width,
            height = r.Slide.Height,
            mpp = r.Slide.Mpp,
            format = r.Slide.Format,
            finished = r.Finished,
            model = ModelName(r),
            tissueAreaMm2 = r.TissueAreaMm2,
            dominant = r.Classes.Where(c => pct[c.Id] is > 0).OrderByDescending(c => c.Pixels).Take(3)
                .Select(c => new { name = c.Name, colour = c.Colour, percent = pct[c.Id] }),
            thumbnail = e.Files.ContainsKey("thumbnail") ? $"/files/{e.Id}/thumbnail" : null,
            hasSlide = e.SlidePath is not null,
        };
    }

    public static object Detail(SlideEntry e)
    {
        var r = e.Report;
        var pct = ReportClasses.PercentOfTissue(r.Classes);
        var geo = TileService.Geometry(e);
        return new
        {
            summary = Summary(e),
            version = e.Version,
            analysis = new { mpp = r.Analysis.Mpp, level = r.Analysis.Level, downsampleToLevel0 = r.Analysis.DownsampleToLevel0, r.Analysis.Device },
            classes = r.Classes.Select(c => new
            {
                id = c.Id, name = c.Name, colour = c.Colour, pixels = c.Pixels, areaMm2 = c.AreaMm2,
                percentOfTissue = pct[c.Id], background = ReportClasses.IsBackground(c),
            }),
            deepZoom = new
            {
                width = geo.Width, height = geo.Height, tileSize = geo.TileSize, maxLevel = geo.MaxLevel,
                slide = e.SlidePath is null ? null : $"/dzi/{e.Id}/slide.dzi",
                overlay = e.MaskPath is null ? null : $"/dzi/{e.Id}/overlay.dzi",
            },
            geojson = e.Files.ContainsKey("geojson") ? $"/files/{e.Id}/geojson" : null,
            files = e.Files.Select(kv => new { key = kv.Key, name = Path.GetFileName(kv.Value), bytes = new FileInfo(kv.Value).Length, url = $"/files/{e.Id}/{kv.Key}" }),
            seconds = r.TotalSeconds,
            software = r.Software,
        };
    }

    private static string ModelName(WsiSegment.Processor.Segmentation.SegmentReport r) =>
        (r.Model.Description is { Length: > 0 } d ? d : Path.GetFileName(r.Model.Path)) + $" ({r.Model.Architecture} p={r.Model.P} q={r.Model.Q}, {ShortHash(r.Model.Hash)})";

    private static string ShortHash(string hash)
    {
        string hex = hash[(hash.IndexOf(':') + 1)..];
        return hex[..Math.Min(10, hex.Length)];
    }
}
