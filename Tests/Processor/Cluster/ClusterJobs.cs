using System.Text.Json;
using NetVips;
using WsiSegment.Tests.Support;
using WsiSegment.Tiling.Phantoms;

namespace WsiSegment.Tests.Processor.Cluster;

/// <summary>What the cluster tests share: tiny phantom slides, `cluster submit` with a small model, and checks that a
/// slide's outputs are complete and valid.</summary>
public static class ClusterJobs
{
    public static readonly string[] OutputSuffixes = [".mask.tif", ".mask.ome.tif", ".overlay.tif", ".geojson", ".thumb.png", ".tissue.png", ".json"];

    public static List<string> Phantoms(string dir, int count, int width, int height, int firstSeed = 1) =>
        Enumerable.Range(firstSeed, count).Select(seed =>
        {
            var files = PhantomWriter.Write(new PhantomOptions { Width = width, Height = height, Seed = seed }, dir);
            File.Delete(files.Labels);
            return files.Slide;
        }).ToList();

    /// <summary>Submits with the small test model and tiny tiles; returns the job id (fails the test if refused).</summary>
    public static string Submit(string outDir, string jobName, int perTask, IEnumerable<string> slides, params string[] more)
    {
        var r = Tool.WsiSegment(["cluster", "submit", .. slides, "-o", outDir, "--job-name", jobName, "--slides-per-task", perTask.ToString(),
            "--model", TestModels.RandomEspNet(), "--tile", "256", "--overlap", "32", .. more]);
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        string id = r.Stdout.Trim();
        Assert.Matches("^[0-9]+$", id);
        return id;
    }

    public static string JobDir(string outDir, string jobName) => Path.Combine(outDir, ".cluster", jobName);

    /// <summary>All task logs of a job, concatenated.</summary>
    public static string Logs(string outDir, string jobName) =>
        string.Concat(Directory.GetFiles(Path.Combine(JobDir(outDir, jobName), "logs"), "task-*.log").Order().Select(File.ReadAllText));

    public static int CountLines(string text, string contains) =>
        text.Split('\n').Count(l => l.Contains(contains, StringComparison.Ordinal));

    public static JsonDocument Status(string outDirOrJob, out int exitCode)
    {
        var r = Tool.WsiSegment("cluster", "status", outDirOrJob, "--json");
        exitCode = r.ExitCode;
        return JsonDocument.Parse(r.Stdout);
    }

    public static Dictionary<string, string> SlideStates(JsonDocument status) =>
        status.RootElement.GetProperty("slides").EnumerateArray()
            .ToDictionary(s => Path.GetFileName(s.GetProperty("slide").GetString()!), s => s.GetProperty("state").GetString()!);

    /// <summary>The slide's outputs exist once, complete, and read back: report of this very slide, masks of its
    /// analysis size with valid labels. Returns the report.</summary>
    public static JsonDocument AssertValidOutputs(string outDir, string slide)
    {
        string stem = Path.Combine(outDir, Path.GetFileNameWithoutExtension(slide));
        foreach (var suffix in OutputSuffixes)
            Assert.True(File.Exists(stem + suffix), $"missing {stem}{suffix}");
        var report = JsonDocument.Parse(File.ReadAllText(stem + ".json"));
        var root = report.RootElement;
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(slide))),
            root.GetProperty("slide").GetProperty("sha256").GetString());
        int w = root.GetProperty("analysis").GetProperty("width").GetInt32(), h = root.GetProperty("analysis").GetProperty("height").GetInt32();
        using var mask = Image.NewFromFile(stem + ".mask.tif");
        using var ome = Image.NewFromFile(stem + ".mask.ome.tif");
        Assert.Equal((w, h), (mask.Width, mask.Height));
        Assert.Equal(0.0, (mask - ome).Abs().Max());
        Assert.True(mask.Max() < 8);
        long pixels = root.GetProperty("classes").EnumerateArray().Sum(c => c.GetProperty("pixels").GetInt64());
        Assert.Equal((long)w * h, pixels);
        return report;
    }

    /// <summary>Nothing half-written: no staging folders, no temporary parts, no output without its report.</summary>
    public static void AssertNothingPartial(string outDir)
    {
        Assert.Empty(Directory.GetDirectories(outDir, ".staging-*"));
        Assert.Empty(Directory.GetFiles(outDir, "*.part", SearchOption.AllDirectories));
        foreach (var mask in Directory.GetFiles(outDir, "*.mask.tif"))
            Assert.True(File.Exists(mask[..^".mask.tif".Length] + ".json"), $"{mask} without its report");
    }

    public static JsonElement SlurmOf(JsonDocument report) => report.RootElement.GetProperty("slurm");
}
