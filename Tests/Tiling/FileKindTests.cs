using WsiSegment.Tests.Support;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Tests.Tiling;

/// <summary>What a path is, found by stat without opening it (an open of a FIFO would block this test for ever).</summary>
public class FileKindTests
{
    [Fact]
    public void Regular_files_directories_fifos_devices_and_bad_links_are_told_apart_without_opening()
    {
        using var dir = new TempDir("kind");
        File.WriteAllBytes(dir.File("a.tif"), [1, 2, 3]);
        Directory.CreateDirectory(dir.File("d.svs"));
        Assert.Equal(0, Tool.Run("mkfifo", [dir.File("p.svs")]).ExitCode);
        File.CreateSymbolicLink(dir.File("z.svs"), "/dev/zero");
        File.CreateSymbolicLink(dir.File("l1.svs"), dir.File("l2.svs"));
        File.CreateSymbolicLink(dir.File("l2.svs"), dir.File("l1.svs"));
        File.CreateSymbolicLink(dir.File("gone.svs"), dir.File("nothing"));
        File.CreateSymbolicLink(dir.File("ok.svs"), dir.File("a.tif"));

        Assert.Equal(new FileKind(FileKindValue.Regular, 3, false), FileKind.Of(dir.File("a.tif")));
        Assert.Equal(new FileKind(FileKindValue.Regular, 3, true), FileKind.Of(dir.File("ok.svs")));
        Assert.Equal(FileKindValue.Directory, FileKind.Of(dir.File("d.svs")).Value);
        Assert.Equal(FileKindValue.Fifo, FileKind.Of(dir.File("p.svs")).Value);
        Assert.Equal(FileKindValue.CharacterDevice, FileKind.Of(dir.File("z.svs")).Value);
        Assert.Contains("symbolic link to a character device", FileKind.Of(dir.File("z.svs")).Rejection);
        Assert.Equal(FileKindValue.LinkLoop, FileKind.Of(dir.File("l1.svs")).Value);
        Assert.Equal(FileKindValue.BrokenLink, FileKind.Of(dir.File("gone.svs")).Value);
        Assert.Equal(FileKindValue.Missing, FileKind.Of(dir.File("none.svs")).Value);
        Assert.Null(FileKind.Of(dir.File("a.tif")).Rejection);
    }
}
