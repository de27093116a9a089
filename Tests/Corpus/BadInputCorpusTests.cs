using System.Text.Json;
using WsiSegment.Tests.Support;
using Xunit.Abstractions;

namespace WsiSegment.Tests.Corpus;

/// <summary>
/// Every file of the generated bad-input corpus through `info` and `segment` (each one run, bounded in time, with its
/// own TMPDIR): each file gives one error line naming it or a correct result, no process dies of a signal or hangs,
/// and nothing is left behind (no staging folders, no .part files, no temporary files).
/// </summary>
public class BadInputCorpusTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(4);

    [SharedFact]
    public void Info_and_segment_give_one_error_line_or_a_correct_result_for_every_corpus_file()
    {
        using var dir = new TempDir("corpus");
        string corpusDir = Path.Combine(dir.Path, "corpus"), outDir = Path.Combine(dir.Path, "out"), tmp = Path.Combine(dir.Path, "tmp");
        Directory.CreateDirectory(tmp);
        var corpus = BadInputCorpus.Build(corpusDir, Repo.SharedSlides);
        var paths = corpus.Select(f => Path.Combine(corpusDir, f.Name)).ToArray();
        var env = new Dictionary<string, string> { ["NO_COLOR"] = "1", ["TMPDIR"] = tmp };
        string dll = Path.Combine(AppContext.BaseDirectory, "wsi-segment.dll");

        var info = Tool.Run("dotnet", [dll, "info", "--json", .. paths], Bound, env);
        var segment = Tool.Run("dotnet", [dll, "segment", .. paths, "-o", outDir, "--model", TestModels.RandomEspNet(), "--assume-mpp", "2",
            "--tile", "256", "--overlap", "64"], Bound, env);
        Assert.Equal(1, info.ExitCode); // 1 = some slides failed; a signal would be ≥ 128
        Assert.Equal(1, segment.ExitCode);

        var infoOk = JsonDocument.Parse(info.Stdout).RootElement.EnumerateArray().Select(e => e.GetProperty("path").GetString()!).ToHashSet();
        var infoErrors = ErrorLines(info.Stderr);
        var segmentErrors = ErrorLines(segment.Stderr);
        output.WriteLine($"{"file",-28} {"expected",-8} {"info",-6} {"segment",-7} reason");
        foreach (var (file, path) in corpus.Zip(paths))
        {
            var ie = infoErrors.Where(l => l.StartsWith($"error: {path}:", StringComparison.Ordinal)).ToList();
            var se = segmentErrors.Where(l => l.StartsWith($"error: {path}:", StringComparison.Ordinal)).ToList();
            bool infoGood = infoOk.Contains(path), segmentGood = File.Exists(Path.Combine(outDir, Stem(file.Name) + ".json"));
            output.WriteLine($"{file.Name,-28} {file.Expect,-8} {(infoGood ? "ok" : "error"),-6} {(segmentGood ? "ok" : "error"),-7} {Reason(ie.FirstOrDefault() ?? se.FirstOrDefault(), path)}");
            // Exactly one outcome per command: one error line naming the file, or a result.
            Assert.True(infoGood ^ ie.Count == 1, $"info on {file.Name} ({file.Fault}): {ie.Count} error lines, result {infoGood}");
            Assert.True(segmentGood ^ se.Count == 1, $"segment on {file.Name} ({file.Fault}): {se.Count} error lines, result {segmentGood}");
            if (file.Expect == Expect.Error)
            {
                Assert.False(infoGood, $"info accepted {file.Name} ({file.Fault})");
                Assert.False(segmentGood, $"segment accepted {file.Name} ({file.Fault})");
            }
            if (file.Expect == Expect.Ok)
            {
                Assert.True(infoGood, $"info refused {file.Name}: {ie.FirstOrDefault()}");
                Assert.True(segmentGood, $"segment refused {file.Name}: {se.FirstOrDefault()}");
            }
            // info verifies what segment reads: a file info accepts, segment does not reject as unreadable.
            if (infoGood && !segmentGood)
                Assert.DoesNotContain("cannot be decoded", se.Single());
        }
        Assert.DoesNotContain("   at ", info.Stderr + segment.Stderr);
        // Nothing left behind: only complete outputs in OUTDIR, no temporary files.
        Assert.Empty(Directory.GetDirectories(outDir));
        Assert.DoesNotContain(Directory.GetFiles(outDir), f => f.EndsWith(".part", StringComparison.Ordinal) || Path.GetFileName(f).StartsWith('.'));
        Assert.Empty(Directory.GetFileSystemEntries(tmp));
    }

    private static List<string> ErrorLines(string stderr) =>
        stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error: ", StringComparison.Ordinal)).ToList();

    private static string Reason(string? line, string path) => line is null ? "" : line[Math.Min(line.Length, 7 + path.Length + 1)..].Trim();

    private static string Stem(string name) => Path.GetFileNameWithoutExtension(name);
}
