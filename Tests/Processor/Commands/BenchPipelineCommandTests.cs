using System.Text.Json;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Commands;

public class BenchPipelineCommandTests
{
    [Fact]
    public void Measures_the_phantom_with_inference_on_every_core_with_compute_on_cores_of_its_own_and_with_fresh_weights()
    {
        using var dir = new TempDir("bench");
        var r = Tool.WsiSegment("bench", "pipeline", "--size", "640x512", "--big-size", "1280x1024", "--runs", "3", "--work", dir.Path,
            "--model", TestModels.RandomEspNet(), "--tile", "256", "--overlap", "64", "--mpp", "2");
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        Assert.Contains("end-to-end", r.Stdout);
        Assert.Contains("/ fresh p2 q8", r.Stdout);

        Assert.Contains("peak RSS big / small", r.Stdout);

        // The memory-scaling run segments the small phantom repeated 2×2 (its own folder), not a generated one.
        string mosaicDir = Path.Combine(dir.Path, "1280x1024-2um-mosaic");
        Assert.Contains("repeated 2×2", r.Stderr + r.Stdout);
        string bigReport = Assert.Single(Directory.GetFiles(Path.Combine(mosaicDir, "out"), "*.json"));
        using (var big = JsonDocument.Parse(File.ReadAllText(bigReport)))
            Assert.Equal(1280, big.RootElement.GetProperty("slide").GetProperty("width").GetInt32());

        // One report per configuration, each from its own child process with its own thread count.
        string phantomDir = Assert.Single(Directory.GetDirectories(dir.Path), d => d != mosaicDir);
        int cores = Environment.ProcessorCount;
        var runs = new List<(string Out, int Threads)> { ("out", cores), ("out-fresh", cores) };
        if (cores > 1) runs.Add(("out-own-cores", cores - 1));
        foreach (var (outName, threads) in runs)
        {
            string report = Assert.Single(Directory.GetFiles(Path.Combine(phantomDir, outName), "*.json"));
            using var doc = JsonDocument.Parse(File.ReadAllText(report));
            Assert.Equal(threads, doc.RootElement.GetProperty("runtime").GetProperty("threads").GetInt32());
            Assert.Equal(256, doc.RootElement.GetProperty("analysis").GetProperty("tile").GetInt32());
            Assert.True(doc.RootElement.GetProperty("stream").GetProperty("seconds").GetDouble() > 0);
        }
        Assert.Equal(runs.Select(x => x.Out).Order(), Directory.GetDirectories(phantomDir).Select(Path.GetFileName).Order());
    }
}
