using System.Net;
using System.Xml.Linq;
using NetVips;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Web;

[Collection(ServeCollection.Name)]
public class ServeHttpTests(ServeFixture fx)
{
    private const string Name = "phantom-3";
    private string Id => fx.Ids[Name];
    private HttpClient Http => fx.Server.Http;

    [Fact]
    public async Task Lists_the_segmented_slides_and_their_dzi_sizes_match_the_slide()
    {
        Assert.Equal(["phantom-3", "phantom-4"], fx.Ids.Keys.Order());
        using var slide = Image.NewFromFile(fx.Slide(Name));
        foreach (var layer in new[] { "slide", "overlay" })
        {
            var xml = XDocument.Parse(await Http.GetStringAsync($"/dzi/{Id}/{layer}.dzi"));
            var size = xml.Root!.Elements().Single(e => e.Name.LocalName == "Size");
            Assert.Equal(slide.Width, (int)size.Attribute("Width")!);
            Assert.Equal(slide.Height, (int)size.Attribute("Height")!);
            Assert.Equal(layer == "slide" ? "jpeg" : "png", (string)xml.Root.Attribute("Format")!);
        }
    }

    [Theory]
    [InlineData(0, 1, 1)] // full resolution: level 12 of a 2560-wide slide
    [InlineData(1, 2, 1)] // half resolution: the slide's second page
    [InlineData(2, 0, 1)]
    public async Task Slide_tiles_equal_the_same_region_read_directly_through_libvips(int page, int col, int row)
    {
        int level = 12 - page;
        var (data, w, h, bands) = Pixels.Decode(await Http.GetByteArrayAsync($"/dzi/{Id}/slide_files/{level}/{col}_{row}.jpeg"));
        using var pageImage = Image.Tiffload(fx.Slide(Name), page: page);
        int ew = Math.Min(256, pageImage.Width - col * 256), eh = Math.Min(256, pageImage.Height - row * 256);
        Assert.Equal((ew, eh, 3), (w, h, bands));
        var expected = Pixels.Region(fx.Slide(Name), page, col * 256, row * 256, w, h);
        // JPEG at quality 85 over fine texture: small differences per pixel; the same region 2 px off differs far more.
        double mean = data.Zip(expected, (a, b) => Math.Abs(a - b)).Average();
        var shifted = Pixels.Region(fx.Slide(Name), page, col * 256 + 2, row * 256 + 2, w - 2, h - 2);
        double off = 0;
        for (int y = 0; y < h - 2; y++)
            for (int x = 0; x < (w - 2) * 3; x++) off += Math.Abs(shifted[y * (w - 2) * 3 + x] - data[y * w * 3 + x]);
        off /= (w - 2) * (h - 2) * 3.0;
        Assert.InRange(mean, 0, 5.0);
        Assert.True(off > 2 * mean, $"tile vs region: {mean:F2}, vs the region 2 px off: {off:F2}");
    }

    [Fact]
    public async Task Overlay_tiles_are_the_mask_in_class_colours_transparent_on_background_and_hide_classes()
    {
        // Level 10 of 12: 4 level-0 pixels per tile pixel, the mask's own resolution (2 µm/px over 0.5 µm/px).
        string mask = fx.Output(Name, ".mask.tif"), overlay = fx.Output(Name, ".overlay.tif");
        var (rgba, w, h, bands) = Pixels.Decode(await Http.GetByteArrayAsync($"/dzi/{Id}/overlay_files/10/1_1.png"));
        Assert.Equal((256, 256, 4), (w, h, bands));
        var labels = Pixels.Region(mask, 0, 256, 256, w, h);
        var palette = fx.Palette(Name);
        Assert.Contains(labels, l => l == 0);
        Assert.Contains(labels, l => l != 0);
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] == 0) { Assert.Equal(0, rgba[i * 4 + 3]); continue; }
            Assert.Equal(255, rgba[i * 4 + 3]);
            for (int c = 0; c < 3; c++) Assert.Equal(palette[labels[i]][c], rgba[i * 4 + c]);
        }
        // segment's own colour overlay (JPEG-compressed, so only nearly) shows the same colours at the same places.
        var colours = Pixels.Region(overlay, 0, 256, 256, w, h);
        int close = Enumerable.Range(0, labels.Length).Count(i => labels[i] == 0 || Enumerable.Range(0, 3).All(c => Math.Abs(colours[i * 3 + c] - rgba[i * 4 + c]) <= 40));
        Assert.InRange(close, labels.Length * 85 / 100, labels.Length); // 4:2:0 chroma blurs class edges
        // Hiding the most frequent class there makes exactly its pixels transparent.
        byte hidden = labels.Where(l => l != 0).GroupBy(l => l).MaxBy(g => g.Count())!.Key;
        var (rgbaHidden, _, _, _) = Pixels.Decode(await Http.GetByteArrayAsync($"/dzi/{Id}/overlay_files/10/1_1.png?hide={hidden}"));
        for (int i = 0; i < labels.Length; i++)
            Assert.Equal(labels[i] == 0 || labels[i] == hidden ? 0 : 255, rgbaHidden[i * 4 + 3]);
    }

    [Fact]
    public async Task Full_resolution_overlay_tiles_repeat_each_mask_pixel_without_inventing_labels()
    {
        var (rgba, w, h, _) = Pixels.Decode(await Http.GetByteArrayAsync($"/dzi/{Id}/overlay_files/12/5_4.png"));
        var labels = Pixels.Region(fx.Output(Name, ".mask.tif"), 0, 5 * 64, 4 * 64, 64, 64);
        var palette = fx.Palette(Name);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int m = y / 4 * 64 + x / 4, t = (y * w + x) * 4;
                Assert.Equal(labels[m] == 0 ? 0 : 255, rgba[t + 3]);
                if (labels[m] != 0) Assert.Equal(palette[labels[m]], rgba[t..(t + 3)]);
            }
    }

    [Theory]
    [InlineData("/dzi/{id}/slide_files/12/10_0.jpeg", 404)] // past the right edge (2560 = 10 tiles)
    [InlineData("/dzi/{id}/slide_files/12/0_8.jpeg", 404)]
    [InlineData("/dzi/{id}/slide_files/13/0_0.jpeg", 404)]
    [InlineData("/dzi/{id}/slide_files/-1/0_0.jpeg", 400)]
    [InlineData("/dzi/{id}/slide_files/abc/0_0.jpeg", 400)]
    [InlineData("/dzi/{id}/slide_files/12/0_0_0.jpeg", 400)]
    [InlineData("/dzi/{id}/slide_files/12/99999999999_0.jpeg", 400)]
    [InlineData("/dzi/{id}/slide_files/12/0_0.png", 404)]
    [InlineData("/dzi/{id}/overlay_files/10/0_0.png?hide=x", 400)]
    [InlineData("/dzi/{id}/mask_files/10/0_0.png", 404)]
    [InlineData("/dzi/0000000000000000/slide_files/0/0_0.jpeg", 404)]
    [InlineData("/dzi/0000000000000000/slide.dzi", 404)]
    [InlineData("/slide/0000000000000000", 404)]
    [InlineData("/api/slides/0000000000000000", 404)]
    public async Task Malformed_or_out_of_range_requests_get_400_or_404_never_a_stack_trace(string path, int status)
    {
        using var response = await Http.GetAsync(path.Replace("{id}", Id));
        string body = await response.Content.ReadAsStringAsync();
        Assert.Equal(status, (int)response.StatusCode);
        Assert.DoesNotContain("   at ", body);
        Assert.DoesNotContain("Exception", body);
    }

    [Theory]
    [InlineData("/files/{id}/..%2f..%2f..%2fetc%2fpasswd")]
    [InlineData("/files/{id}/%2e%2e%2f%2e%2e%2fetc%2fpasswd")]
    [InlineData("/files/{id}/../../../etc/passwd")]
    [InlineData("/static/..%2f..%2f..%2f..%2fetc%2fpasswd")]
    [InlineData("/static/%2e%2e/%2e%2e/wsi-segment.dll")]
    [InlineData("/static/..%2fwsi-segment.dll")]
    [InlineData("/static/%252e%252e/wsi-segment.dll")]
    [InlineData("/dzi/..%2f..%2fetc/slide.dzi")]
    public async Task Path_traversal_is_refused(string path)
    {
        using var response = await Http.GetAsync(path.Replace("{id}", Id));
        Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest, $"{path}: {response.StatusCode}");
        string body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("root:", body);
        Assert.False(body.StartsWith("MZ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Tiles_carry_an_etag_and_private_caching_and_answer_304_when_unchanged()
    {
        string url = $"/dzi/{Id}/slide_files/9/0_0.jpeg";
        using var first = await Http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("image/jpeg", first.Content.Headers.ContentType!.MediaType);
        var etag = first.Headers.ETag!;
        Assert.True(first.Headers.CacheControl!.Private);
        using var again = new HttpRequestMessage(HttpMethod.Get, url);
        again.Headers.IfNoneMatch.Add(etag);
        using var second = await Http.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        // Another tile, or the same tile with a class hidden, has another ETag.
        using var other = await Http.GetAsync($"/dzi/{Id}/overlay_files/9/0_0.png?hide=1");
        Assert.NotEqual(etag.Tag, other.Headers.ETag!.Tag);
    }

    [Fact]
    public async Task Downloads_serve_each_listed_output_and_the_index_pages_load()
    {
        using var detail = System.Text.Json.JsonDocument.Parse(await Http.GetStringAsync($"/api/slides/{Id}"));
        var files = detail.RootElement.GetProperty("files").EnumerateArray().ToList();
        Assert.Contains(files, f => f.GetProperty("key").GetString() == "mask");
        foreach (var f in files)
        {
            var bytes = await Http.GetByteArrayAsync(f.GetProperty("url").GetString());
            Assert.Equal(f.GetProperty("bytes").GetInt64(), bytes.Length);
        }
        Assert.Contains("<html", await Http.GetStringAsync("/"));
        Assert.Contains("openseadragon", await Http.GetStringAsync($"/slide/{Id}"));
        Assert.Contains("OpenSeadragon", await Http.GetStringAsync("/static/lib/openseadragon/openseadragon.min.js"));
    }
}
