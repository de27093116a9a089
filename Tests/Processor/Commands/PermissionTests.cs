using WsiSegment.Tests.Processor.Watch;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Commands;

/// <summary>
/// A slide this user may not read: `info` and `segment` refuse it as permission denied, naming it. Root reads every
/// file whatever its mode, so as root the commands run without the two capabilities that let it (CAP_DAC_OVERRIDE,
/// CAP_DAC_READ_SEARCH), which is what any other user is.
/// </summary>
public class PermissionTests
{
    [Fact]
    public void A_slide_the_user_may_not_read_is_refused_as_permission_denied_naming_it()
    {
        if (OperatingSystem.IsWindows()) return;
        using var dir = new TempDir("perm");
        string slide = dir.File("locked.tif"), outDir = dir.File("out");
        TestSlides.WriteTiledTiff(slide);
        File.SetUnixFileMode(slide, UnixFileMode.None);

        var info = Run(["info", slide]);
        var segment = Run(["segment", slide, "-o", outDir, "--model", TestModels.RandomEspNet(), "--mpp", "5", "--tile", "256", "--overlap", "32"]);
        foreach (var r in new[] { info, segment })
        {
            Assert.True(r.ExitCode == 1, r.Stderr);
            Assert.Contains($"error: {slide}: permission denied", r.Stderr);
            Assert.DoesNotContain("   at ", r.Stderr);
        }
        Assert.False(Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any(), "segment left something behind");

        // The same file readable again: the refusal was the mode, nothing else.
        File.SetUnixFileMode(slide, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Equal(0, Run(["info", slide]).ExitCode);
    }

    private static Tool.Result Run(string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "wsi-segment.dll");
        var env = new Dictionary<string, string> { ["NO_COLOR"] = "1", ["COLUMNS"] = "200" };
        return Environment.UserName == "root"
            ? Tool.Run(Tool.Require("setpriv", "util-linux"), ["--bounding-set", "-dac_override,-dac_read_search", "dotnet", dll, .. args], env: env)
            : Tool.Run("dotnet", [dll, .. args], env: env);
    }
}
