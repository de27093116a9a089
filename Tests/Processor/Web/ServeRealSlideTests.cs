using System.Text.Json;
using System.Xml.Linq;
using NetVips;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Web;

/// <summary>A real Aperio slide (read through OpenSlide) behind the web view: its pyramid and tiles as OpenSlide gives them.</summary>
public class ServeRealSlideTests
{
    [SharedFact]
    public async Task Svs_tiles_equal_openslide_region_reads()
    {
        using var dir = new TempDir("serve-svs");
        string slide = Path.Combine(Repo.SharedSlides, "CMU-1-Small-Region.svs");
        var r = Tool.WsiSegment("segment", slide, "-o", dir.Path, "--model", TestModels.RandomEspNet(), "--tile", "256", "--overlap", "64");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var server = new ServerProcess(dir.Path, "--slides", Repo.SharedSlides, "--urls", "http://127.0.0.1:0");
        using var list = JsonDocument.Parse(await server.Http.GetStringAsync("/api/slides"));
        string id = Assert.Single(list.RootElement.EnumerateArray()).GetProperty("id").GetString()!;

        // OpenSlide's own tools read the slide (in another process: nothing of ours in between).
        var props = OpenSlideProperties.Read(slide);
        int width = (int)props.Number("openslide.level[0].width")!, height = (int)props.Number("openslide.level[0].height")!;
        var xml = XDocument.Parse(await server.Http.GetStringAsync($"/dzi/{id}/slide.dzi"));
        var size = xml.Root!.Elements().Single(e => e.Name.LocalName == "Size");
        Assert.Equal((width, height), ((int)size.Attribute("Width")!, (int)size.Attribute("Height")!));

        int max = (int)Math.Ceiling(Math.Log2(Math.Max(width, height)));
        var (data, w, h, _) = Pixels.Decode(await server.Http.GetByteArrayAsync($"/dzi/{id}/slide_files/{max}/3_2.jpeg"));
        string png = dir.File("region.png");
        var written = Tool.Run(Tool.Require("openslide-write-png", "openslide-tools"), [slide, (3 * 256).ToString(), (2 * 256).ToString(), "0", w.ToString(), h.ToString(), png]);
        Assert.True(written.ExitCode == 0, written.Stderr);
        using var region = Image.NewFromFile(png);
        using var flat = region.HasAlpha() ? region.Flatten(background: [255.0, 255.0, 255.0]) : region.Copy();
        using var rgb = flat.Cast(Enums.BandFormat.Uchar);
        var expected = rgb.WriteToMemory<byte>();
        Assert.InRange(data.Zip(expected, (a, b) => Math.Abs(a - b)).Average(), 0, 5.0);
    }
}
