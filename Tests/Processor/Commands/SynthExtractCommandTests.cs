using System.Globalization;
using NetVips;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Commands;

public class SynthExtractCommandTests
{
    [Fact]
    public void Patches_extracted_from_a_phantom_line_up_with_its_mode_shrunk_labels()
    {
        using var dir = new TempDir("synth-extract");
        var synth = Tool.WsiSegment("synth", dir.File("slides"), "--size", "1280x1024", "--seed", "21", "--mpp", "0.5");
        Assert.True(synth.ExitCode == 0, synth.Stderr);
        // 2 µm/px from 0.5 µm/px: downsample 4, so label patches are crops of the labels' third page (shrunk 4x by mode).
        var extract = Tool.WsiSegment("extract", dir.File("ds"), dir.File("slides/phantom-21.tif"),
            "--patch", "96", "--overlap", "16", "--mpp", "2", "--keep-background", "1");
        Assert.True(extract.ExitCode == 0, extract.Stderr);
        Assert.Contains("one slide", extract.Stderr);
        var page = LabelFiles.Read(dir.File("slides/phantom-21.labels.tif"), page: 2);
        Assert.Equal(320 * 256, page.Length);
        var rows = File.ReadAllLines(dir.File("ds/index.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(4 * 3, rows.Count); // x, y at 0, 80, 160, 224 / 0, 80, 160
        var map = new byte[page.Length];
        foreach (var r in rows)
        {
            Assert.Equal("train", r[7]);
            int x = int.Parse(r[3], CultureInfo.InvariantCulture) / 4, y = int.Parse(r[4], CultureInfo.InvariantCulture) / 4;
            var patch = LabelFiles.Read(Path.Combine(dir.File("ds"), r[1]));
            long[] hist = new long[8];
            for (int j = 0; j < 96; j++)
                for (int i = 0; i < 96; i++)
                {
                    map[(y + j) * 320 + x + i] = patch[j * 96 + i];
                    hist[patch[j * 96 + i]]++;
                }
            Assert.Equal(hist, r.Skip(8).Take(8).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray());
            using var img = Image.NewFromFile(Path.Combine(dir.File("ds"), r[0]));
            Assert.Equal((96, 96, 3), (img.Width, img.Height, img.Bands));
        }
        Assert.Equal(page, map);
    }
}
