using WsiSegment.Stitching.Output;
using WsiSegment.Stitching.Spooling;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Stitching;

public class LabelSpoolTests
{
    [Fact]
    public void Blocks_land_at_their_offsets_and_the_rest_reads_as_background()
    {
        using var dir = new TempDir("spool");
        string path;
        using (var spool = LabelSpool.Create(dir.File("l.u8"), 100, 60))
        {
            path = spool.Path;
            var block = new byte[7 * 5];
            for (int i = 0; i < block.Length; i++) block[i] = (byte)(i + 1);
            spool.Write(10, 20, 7, 5, block);
            var rows = Enumerable.Repeat((byte)9, 100 * 2).ToArray();
            spool.Write(0, 58, 100, 2, rows); // whole rows: one contiguous write

            var bytes = File.ReadAllBytes(path);
            Assert.Equal(6000, bytes.Length);
            for (int y = 0; y < 60; y++)
                for (int x = 0; x < 100; x++)
                {
                    int expected = y >= 58 ? 9 : x >= 10 && x < 17 && y >= 20 && y < 25 ? (y - 20) * 7 + (x - 10) + 1 : 0;
                    Assert.Equal(expected, bytes[y * 100 + x]);
                }

            var back = new byte[300];
            spool.ReadRows(20, 3, back);
            Assert.Equal(1, back[10]);
            Assert.Equal(8, back[110]);

            Assert.Throws<ArgumentOutOfRangeException>(() => spool.Write(95, 0, 7, 1, new byte[7]));
            Assert.Throws<ArgumentException>(() => spool.Write(0, 0, 7, 2, new byte[7]));
        }
        Assert.False(File.Exists(path)); // deleted on dispose
    }

    [Fact]
    public void Kept_spools_survive_dispose_and_closed_ones_refuse_writes()
    {
        using var dir = new TempDir("spool");
        var spool = LabelSpool.CreateTemporary(10, 10, dir.Path);
        spool.Keep();
        spool.Dispose();
        Assert.True(File.Exists(spool.Path));
        Assert.Throws<ObjectDisposedException>(() => spool.Write(0, 0, 1, 1, new byte[1]));
    }

    [Fact]
    public void An_unwritable_place_is_named_in_the_error()
    {
        // An I/O failure (retried by the watch), naming the file as a typed output error.
        var e = Assert.Throws<OutputWriteException>(() => LabelSpool.Create("/proc/nope/l.u8", 10, 10));
        Assert.Contains("/proc/nope/l.u8", e.Message);
        Assert.Equal("/proc/nope/l.u8", e.Path);
        Assert.IsAssignableFrom<IOException>(e);
    }
}
