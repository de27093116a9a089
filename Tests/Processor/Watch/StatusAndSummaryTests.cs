using System.Text.Json;
using WsiSegment.Processor.Segmentation;
using WsiSegment.Processor.Watch;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Watch;

public class StatusAndSummaryTests
{
    [Fact]
    public async Task Status_json_is_always_whole_and_parseable_while_being_rewritten()
    {
        using var dir = new TempDir("status");
        string path = dir.File("status.json");
        var status = new WatchStatus(path, TimeSpan.Zero);
        status.SetState("idle");
        using var cts = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            int i = 0;
            while (!cts.IsCancellationRequested)
            {
                status.Begin($"s{i}.tif", 1);
                for (int d = 0; d <= 10; d++) status.Progress(new PipelineProgress($"s{i}.tif", "segment", d, 10, 5));
                status.SetQueue(i % 7, i % 3);
                status.End(i % 5 == 0 ? "failed" : "done", 1.5);
                i++;
            }
        });
        int reads = 0;
        while (reads < 300 || status.Done < 3)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            Assert.True(doc.RootElement.TryGetProperty("counts", out _));
            reads++;
        }
        cts.Cancel();
        await writer;

        status.Begin("last.tif", 2);
        status.Progress(new PipelineProgress("last.tif", "segment", 3, 12, 4));
        using var final = JsonDocument.Parse(File.ReadAllText(path));
        var r = final.RootElement;
        Assert.Equal("working", r.GetProperty("state").GetString());
        Assert.Equal("last.tif", r.GetProperty("current").GetProperty("slide").GetString());
        Assert.Equal(0.25, r.GetProperty("current").GetProperty("fraction").GetDouble());
        Assert.Equal(2, r.GetProperty("current").GetProperty("attempt").GetInt32());
        Assert.Equal(status.Done, r.GetProperty("counts").GetProperty("done").GetInt32());
        Assert.True(r.GetProperty("throughput").GetProperty("slidesPerHour").GetDouble() > 0);
        Assert.Equal(Environment.ProcessId, r.GetProperty("worker").GetProperty("pid").GetInt32());
        Assert.Empty(Directory.GetFiles(dir.Path, ".*"));
    }

    [Fact]
    public async Task Summary_rows_from_several_writers_never_interleave_and_parse_back()
    {
        using var dir = new TempDir("summary");
        string path = dir.File("summary.csv");
        string[] classes = ["background", "tumour, invasive", "stroma"];
        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            var csv = new SummaryCsv(path, classes);
            for (int i = 0; i < 50; i++)
                csv.Append(new SummaryCsv.Row(DateTimeOffset.UtcNow, $"w{w}-{i}.svs", i % 10 == 0 ? "failed" : "done", 1, 12.5, 0.04,
                    i % 10 == 0 ? "corrupt: tile 3, \"bad\"" : null, i % 10 == 0 ? null : [1.25, 2.5, 0.125]));
        })));

        var lines = File.ReadAllLines(path);
        Assert.Equal("finished_utc,slide,status,attempts,seconds,overhead_seconds,reason,area_mm2_background,\"area_mm2_tumour, invasive\",area_mm2_stroma", lines[0]);
        Assert.Equal(201, lines.Length);
        var slides = new HashSet<string>();
        foreach (var line in lines.Skip(1))
        {
            var f = WsiSegment.Model.Training.PatchIndex.SplitCsv(line); // the project's RFC 4180 line splitter
            Assert.Equal(10, f.Count);
            Assert.True(slides.Add(f[1]));
            if (f[2] == "failed") Assert.Equal("corrupt: tile 3, \"bad\"", f[6]);
            else Assert.Equal(["1.25", "2.5", "0.125"], f.Skip(7));
        }
        Assert.Equal(200, slides.Count);
    }

    [Fact]
    public void Summary_with_another_models_columns_is_set_aside_not_mixed()
    {
        using var dir = new TempDir("summary");
        string path = dir.File("summary.csv");
        new SummaryCsv(path, ["a"]).Append(new SummaryCsv.Row(DateTimeOffset.UtcNow, "x.svs", "done", 1, 1, 0, null, [1]));
        new SummaryCsv(path, ["a", "b"]).Append(new SummaryCsv.Row(DateTimeOffset.UtcNow, "y.svs", "done", 1, 1, 0, null, [1, 2]));
        Assert.Equal(2, File.ReadAllLines(path).Length);
        Assert.EndsWith("area_mm2_b", File.ReadAllLines(path)[0]);
        var aside = Assert.Single(Directory.GetFiles(dir.Path, "summary.*.csv"));
        Assert.Contains("x.svs", File.ReadAllText(aside));
    }
}
