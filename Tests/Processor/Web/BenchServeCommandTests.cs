using System.Text.Json;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Web;

/// <summary>Smoke test of `bench serve` on a small phantom: it runs, every request is answered, the figures are there.</summary>
public class BenchServeCommandTests
{
    [Fact]
    public void Bench_serve_answers_every_request_and_reports_throughput_latency_and_server_rss()
    {
        var r = Tool.WsiSegment("bench", "serve", "--size", "1024x768", "--requests", "600", "--concurrency", "4", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        var phases = root.GetProperty("phases").EnumerateArray().ToList();
        Assert.Equal(["cold", "mixed"], phases.Select(p => p.GetProperty("name").GetString()));
        Assert.Equal(600, phases.Sum(p => p.GetProperty("requests").GetInt32()));
        Assert.All(phases, p => Assert.Equal(0, p.GetProperty("errors").GetInt32()));
        // Every tile of both 1024x768 pyramids once in the cold pass: 2 × (12 + 4 + 1 + 1 + …) tiles.
        Assert.Equal(root.GetProperty("tilesPerPass").GetInt32(), phases[0].GetProperty("requests").GetInt32());
        Assert.True(root.GetProperty("p99Ms").GetDouble() >= root.GetProperty("p50Ms").GetDouble());
        Assert.InRange(root.GetProperty("serverPeakRssBytes").GetInt64(), 10L << 20, 1L << 30);
    }
}
