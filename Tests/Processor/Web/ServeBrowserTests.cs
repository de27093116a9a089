using System.Text.Json;
using Microsoft.Playwright;
using NetVips;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Web;

/// <summary>The pages as a pathologist uses them, in a real headless chromium: index, slide view, opacity, zoom, class toggles.</summary>
[Collection(ServeCollection.Name)]
public class ServeBrowserTests(ServeFixture fx)
{
    private const string Name = "phantom-3";
    private const int MaxLevel = 12; // 2560 px wide

    [BrowserFact]
    public async Task Index_lists_the_segmented_phantoms_newest_first_and_filters_by_name()
    {
        await using var b = await Browser.OpenAsync();
        await b.Page.GotoAsync(fx.Server.Url + "/");
        var rows = b.Page.Locator("#slides tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        var names = await b.Page.Locator("#slides tbody tr td:nth-child(2)").AllTextContentsAsync();
        Assert.Equal(["phantom-3", "phantom-4"], names.Order());
        Assert.Contains("2560 × 2048", await rows.Filter(new() { HasText = "phantom-3" }).TextContentAsync());
        // Thumbnails are real images, served from the outputs.
        await b.Page.WaitForFunctionAsync("() => [...document.querySelectorAll('#slides img')].every(i => i.complete && i.naturalWidth > 0)");
        await b.Page.FillAsync("#filter", "phantom-4");
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await b.Page.ClickAsync("text=phantom-4");
        await b.Page.WaitForURLAsync("**/slide/" + fx.Ids["phantom-4"]);
    }

    [BrowserFact]
    public async Task Slide_view_draws_the_slide_with_the_overlay_where_the_ground_truth_has_classes_and_opacity_and_toggles_change_it()
    {
        await using var b = await Browser.OpenAsync();
        await OpenSlide(b);
        var palette = fx.Palette(Name);
        var points = GroundTruthPoints();
        Assert.True(points.Count >= 8, "phantom has too few large class regions: " + points.Count);

        // Not blank: the slide's tiles are drawn (tissue is not white), and tiles of both layers were asked for.
        Assert.Contains(b.RequestsSoFar(), u => u.Contains("/slide_files/"));
        Assert.Contains(b.RequestsSoFar(), u => u.Contains("/overlay_files/"));
        await SetOpacity(b, 0);
        var bare = await PixelsAt(b, points);
        Assert.True(bare.Count(p => p[0] + p[1] + p[2] < 3 * 235) >= points.Count / 2, "slide looks blank: " + Show(bare));

        // At 100 % the overlay's colour is where the ground truth says its class is (the demo model is not perfect: most places).
        await SetOpacity(b, 100);
        var full = await PixelsAt(b, points);
        int matches = points.Select((p, i) => Near(full[i], palette[p.Class], 10)).Count(m => m);
        Assert.True(matches >= points.Count * 3 / 4, $"{matches}/{points.Count} points show their ground-truth class colour: {Show(full)}");

        // Opacity changes the pixels: 50 % lies between the bare slide and the full overlay.
        await SetOpacity(b, 50);
        var half = await PixelsAt(b, points);
        Assert.True(Enumerable.Range(0, points.Count).Count(i => !Near(full[i], bare[i], 10)) >= points.Count * 3 / 4);
        for (int i = 0; i < points.Count; i++)
            for (int c = 0; c < 3; c++)
                Assert.InRange(half[i][c], (full[i][c] + bare[i][c]) / 2 - 12, (full[i][c] + bare[i][c]) / 2 + 12);

        // The class toggle hides a class: its places show the bare slide, the others keep their colours.
        await SetOpacity(b, 100);
        int hidden = points.Where((p, i) => Near(full[i], palette[p.Class], 10)).GroupBy(p => p.Class).MaxBy(g => g.Count())!.Key;
        await b.Page.UncheckAsync($"#legend input[data-class='{hidden}']");
        await b.Page.WaitForFunctionAsync($"() => window.wsiViewer.world.getItemCount() === 2 && window.wsiViewer.world.getItemAt(1).source.getTileUrl(0,0,0).includes('hide={hidden}')");
        await Settled(b);
        var toggled = await PixelsAt(b, points);
        for (int i = 0; i < points.Count; i++)
        {
            if (!Near(full[i], palette[points[i].Class], 10)) continue;
            if (points[i].Class == hidden) Assert.True(Near(toggled[i], bare[i], 10), $"hidden class {hidden} still drawn at {points[i]}: {Show([toggled[i]])} vs slide {Show([bare[i]])}");
            else Assert.True(Near(toggled[i], full[i], 10), $"class {points[i].Class} lost at {points[i]}");
        }
    }

    [BrowserFact]
    public async Task Zooming_to_full_resolution_requests_the_deepest_levels_and_the_screenshot_is_taken()
    {
        await using var b = await Browser.OpenAsync(1200, 720);
        await OpenSlide(b);
        await SetOpacity(b, 50);
        string? target = Environment.GetEnvironmentVariable("WSI_SEGMENT_SCREENSHOT");
        byte[] shot = await b.Page.ScreenshotAsync();
        using (var img = Image.NewFromBuffer(shot))
        {
            Assert.Equal((1200, 720), (img.Width, img.Height));
            // For the README: a palette PNG, quantised until it is under 200 KB.
            if (target is not null)
                foreach (int q in new[] { 70, 55, 40, 25 })
                {
                    byte[] png = img.PngsaveBuffer(palette: true, q: q, effort: 10, dither: 0.3);
                    if (png.Length >= 200_000 && q > 25) continue;
                    File.WriteAllBytes(target, png);
                    break;
                }
        }
        Assert.DoesNotContain(b.RequestsSoFar(), u => u.Contains($"_files/{MaxLevel}/"));
        // 2 screen pixels per slide pixel around the centre: OpenSeadragon needs level 12 of both layers.
        await b.Page.EvaluateAsync("() => { const v = window.wsiViewer; v.viewport.zoomTo(v.world.getItemAt(0).imageToViewportZoom(2), null, true); }");
        await Settled(b);
        Assert.Contains(b.RequestsSoFar(), u => u.Contains($"/slide_files/{MaxLevel}/"));
        Assert.Contains(b.RequestsSoFar(), u => u.Contains($"/overlay_files/{MaxLevel}/"));
        var scale = await b.Page.TextContentAsync("#scalebar-label");
        Assert.Matches(@"^\d+(\.\d+)? (µm|mm)$", scale!);

        // The GeoJSON outlines: one vector path per class present, laid over the slide.
        await b.Page.CheckAsync("#outlines");
        await b.Page.WaitForFunctionAsync("() => document.querySelectorAll('#outlines-layer path').length > 0");
        int paths = await b.Page.EvaluateAsync<int>("() => document.querySelectorAll('#outlines-layer path').length");
        Assert.InRange(paths, 2, 8);
        await b.Page.UncheckAsync("#outlines");
        await b.Page.WaitForFunctionAsync("() => !document.getElementById('outlines-layer')");
    }

    private async Task OpenSlide(Browser b)
    {
        await b.Page.GotoAsync($"{fx.Server.Url}/slide/{fx.Ids[Name]}");
        await Assertions.Expect(b.Page.Locator("#legend tbody tr")).ToHaveCountAsync(8);
        await Assertions.Expect(b.Page.Locator("#title")).ToHaveTextAsync(Name);
        await Settled(b);
    }

    /// <summary>Both layers open, every tile they need drawn, nothing left to draw.</summary>
    private static async Task Settled(Browser b)
    {
        await b.Page.EvaluateAsync("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))");
        await b.Page.WaitForFunctionAsync("""
            () => { const v = window.wsiViewer; if (!v || v.world.getItemCount() < 2) return false;
              for (let i = 0; i < v.world.getItemCount(); i++) if (!v.world.getItemAt(i).getFullyLoaded()) return false;
              return !v.world.needsDraw(); }
            """);
        await b.Page.EvaluateAsync("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))");
    }

    private static async Task SetOpacity(Browser b, int percent)
    {
        await b.Page.Locator("#opacity").FillAsync(percent.ToString());
        await Assertions.Expect(b.Page.Locator("#opacity-value")).ToHaveTextAsync($"{percent} %");
        await Settled(b);
    }

    /// <summary>The canvas's pixel at each slide position (level-0 coordinates).</summary>
    private static async Task<int[][]> PixelsAt(Browser b, List<(int X, int Y, int Class)> points)
    {
        var json = await b.Page.EvaluateAsync<JsonElement>("""
            pts => { const v = window.wsiViewer, c = v.drawer.canvas, ctx = c.getContext('2d'), item = v.world.getItemAt(0);
              const ratio = c.width / c.clientWidth;
              return pts.map(([x, y]) => { const p = item.imageToViewerElementCoordinates(new OpenSeadragon.Point(x, y));
                const d = ctx.getImageData(Math.round(p.x * ratio), Math.round(p.y * ratio), 1, 1).data; return [d[0], d[1], d[2]]; }); }
            """, points.Select(p => new[] { p.X, p.Y }).ToArray());
        return json.EnumerateArray().Select(p => p.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
    }

    /// <summary>Centres of 64×64 px blocks that the ground truth fills with one class (not background), spread over the slide.</summary>
    private List<(int X, int Y, int Class)> GroundTruthPoints()
    {
        using var truth = Image.Tiffload(fx.Truth(Name), page: 3); // shrunk 8× by mode
        var labels = truth.WriteToMemory<byte>();
        int w = truth.Width, h = truth.Height;
        var found = new List<(int, int, int)>();
        for (int y = 6; y < h - 6; y += 12)
            for (int x = 6; x < w - 6; x += 12)
            {
                byte c = labels[y * w + x];
                bool uniform = c != 0;
                for (int dy = -4; dy <= 4 && uniform; dy++)
                    for (int dx = -4; dx <= 4 && uniform; dx++)
                        uniform = labels[(y + dy) * w + x + dx] == c;
                if (uniform) found.Add((x * 8 + 4, y * 8 + 4, c));
            }
        return found.Take(40).ToList();
    }

    private static bool Near(int[] px, byte[] rgb, int tol) => Enumerable.Range(0, 3).All(c => Math.Abs(px[c] - rgb[c]) <= tol);
    private static bool Near(int[] a, int[] b, int tol) => Enumerable.Range(0, 3).All(c => Math.Abs(a[c] - b[c]) <= tol);
    private static string Show(IEnumerable<int[]> px) => string.Join(" ", px.Select(p => $"({p[0]},{p[1]},{p[2]})"));
}
