using System.Text.Json;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Web;

/// <summary>
/// Two small phantoms (synth, with ground truth) segmented by the bundled demo model, and a server over their
/// outputs; shared by the HTTP and the browser tests (one segmentation for all of them).
/// </summary>
public sealed class ServeFixture : IDisposable
{
    public ServeFixture()
    {
        Dir = new TempDir("serve");
        Slides = Path.Combine(Dir.Path, "slides");
        Out = Path.Combine(Dir.Path, "out");
        foreach (var (size, seed) in new[] { ("2560x2048", "3"), ("1536x1280", "4") })
        {
            var s = Tool.WsiSegment("synth", Slides, "--size", size, "--seed", seed);
            if (s.ExitCode != 0) throw new InvalidOperationException("synth failed: " + s.Stderr);
        }
        var r = Tool.WsiSegment("segment", Path.Combine(Slides, "phantom-3.tif"), Path.Combine(Slides, "phantom-4.tif"), "-o", Out, "--model", TestModels.Demo);
        if (r.ExitCode != 0) throw new InvalidOperationException("segment failed: " + r.Stderr);
        Server = new ServerProcess(Out, "--slides", Slides, "--urls", "http://127.0.0.1:0");
        using var list = JsonDocument.Parse(Server.Http.GetStringAsync("/api/slides").Result);
        foreach (var s in list.RootElement.EnumerateArray())
            Ids[s.GetProperty("name").GetString()!] = s.GetProperty("id").GetString()!;
    }

    public TempDir Dir { get; }
    public string Slides { get; }
    public string Out { get; }
    public ServerProcess Server { get; }
    public Dictionary<string, string> Ids { get; } = new();

    public string Slide(string name) => Path.Combine(Slides, name + ".tif");
    public string Truth(string name) => Path.Combine(Slides, name + ".labels.tif");
    public string Output(string name, string suffix) => Path.Combine(Out, name + suffix);

    /// <summary>RGB per class id, as the slide's report gives the colours.</summary>
    public byte[][] Palette(string name)
    {
        using var report = JsonDocument.Parse(File.ReadAllText(Output(name, ".json")));
        return report.RootElement.GetProperty("classes").EnumerateArray()
            .Select(c => Convert.FromHexString(c.GetProperty("colour").GetString()!.TrimStart('#'))).ToArray();
    }

    public void Dispose()
    {
        Server.Dispose();
        Dir.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class ServeCollection : ICollectionFixture<ServeFixture>
{
    public const string Name = "serve";
}
