using System.Diagnostics;
using System.Globalization;
using WsiSegment.Tests.Support;
using WsiSegment.Tests.Watch;

namespace WsiSegment.Tests.Processor;

/// <summary>Ctrl+C (SIGINT) or SIGTERM in the middle of `segment`: one "cancelled" line, exit code 130, and nothing left
/// in the output folder (no staging folder, no spool, no .part files).</summary>
public class SegmentInterruptTests
{
    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task An_interrupted_segment_says_cancelled_once_and_leaves_nothing(string signal)
    {
        using var dir = new TempDir("interrupt");
        string slide = dir.File("big.tif"), outDir = Path.Combine(dir.Path, "out");
        TestSlides.WriteTiledTiff(slide, size: 3072, seed: 2);
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "wsi-segment.dll"), "segment", slide, "-o", outDir, "--model", TestModels.RandomEspNet(),
                     "--mpp", "0.5", "--tile", "256", "--overlap", "32", "--device", "cpu", "--threads", "1", "--quiet" })
            psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        await InProcessWatch.WaitUntil(() => p.HasExited || (Directory.Exists(outDir) && Directory.EnumerateDirectories(outDir, ".staging-*").Any()),
            TimeSpan.FromSeconds(90), "segmentation started");
        Assert.False(p.HasExited, await stderr);
        await Task.Delay(500); // into the stream
        Tool.Run("kill", ["-" + signal, p.Id.ToString(CultureInfo.InvariantCulture)]);
        Assert.True(p.WaitForExit(TimeSpan.FromSeconds(90)), "did not stop after SIG" + signal);
        p.WaitForExit();
        string err = await stderr;
        await stdout;
        Assert.Equal(130, p.ExitCode);
        Assert.Single(err.Split('\n'), l => l.Contains("cancelled", StringComparison.Ordinal));
        Assert.DoesNotContain("error:", err);
        Assert.Empty(Directory.GetFileSystemEntries(outDir));
    }
}
