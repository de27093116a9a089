using System.Diagnostics;
using System.Globalization;
using System.Text;
using WsiSegment.Tests.Support;
using WsiSegment.Tests.Processor.Watch;

namespace WsiSegment.Tests.Processor.Commands;

/// <summary>Ctrl+C (SIGINT) or SIGTERM in the middle of `segment`: one "cancelled" line, exit code 130, and nothing left
/// in the output folder (no staging folder, no spool, no .part files).</summary>
public class SegmentInterruptTests
{
    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task An_interrupted_segment_says_cancelled_once_and_leaves_nothing(string signal)
    {
        if (!OperatingSystem.IsLinux()) return;
        using var dir = new TempDir("interrupt");
        string slide = dir.File("big.tif"), outDir = Path.Combine(dir.Path, "out");
        // Hundreds of patches on one thread: minutes of work, so the signal lands in the stream.
        TestSlides.WriteTiledTiff(slide, size: 4096, seed: 2);
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "wsi-segment.dll"), "segment", slide, "-o", outDir, "--model", TestModels.RandomEspNet(),
                     "--mpp", "0.5", "--tile", "256", "--overlap", "32", "--device", "cpu", "--threads", "1", "--no-tissue-mask" })
            psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        var stderr = new StringBuilder();
        using var p = new Process { StartInfo = psi };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        p.OutputDataReceived += (_, _) => { };
        p.Start();
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        string Err() { lock (stderr) return stderr.ToString(); }
        try
        {
            // The progress line: patches are being segmented, the staging folder holds the spool.
            await InProcessWatch.WaitUntil(() => p.HasExited || Err().Contains("segmenting ", StringComparison.Ordinal),
                TimeSpan.FromSeconds(180), () => "segmentation under way\n" + Err());
            Assert.False(p.HasExited, Err());
            Assert.NotEmpty(Directory.EnumerateDirectories(outDir, ".staging-*"));

            var kill = Tool.Run("kill", ["-" + signal, p.Id.ToString(CultureInfo.InvariantCulture)]);
            Assert.True(kill.ExitCode == 0, kill.Stderr);
            Assert.True(p.WaitForExit(TimeSpan.FromSeconds(90)), "did not stop after SIG" + signal + "\n" + Err());
            p.WaitForExit();
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        }
        string err = Err();
        Assert.True(p.ExitCode == 130, $"exit {p.ExitCode}\n{err}");
        Assert.Single(err.Split('\n'), l => l.Contains("cancelled", StringComparison.Ordinal));
        Assert.DoesNotContain("error:", err);
        Assert.Empty(Directory.GetFileSystemEntries(outDir));
    }
}
