using WsiSegment.Processor.Watch;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Watch;

public class StabilityTrackerTests
{
    [Fact]
    public async Task A_file_growing_in_chunks_is_taken_only_once_it_stopped_changing()
    {
        using var dir = new TempDir("stable");
        var stable = TimeSpan.FromSeconds(2);
        var tracker = new StabilityTracker(stable);
        TestSlides.WriteTiledTiff(dir.File("src.tif"));
        byte[] whole = File.ReadAllBytes(dir.File("src.tif"));
        File.Delete(dir.File("src.tif"));

        string path = dir.File("slide.tif");
        DateTime lastWrite = DateTime.MinValue;
        // A dedicated thread, not the pool: its pauses must stay well below the stable time even on a busy machine.
        var done = new TaskCompletionSource();
        var thread = new Thread(() =>
        {
            using var f = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite);
            int chunk = whole.Length / 10 + 1;
            for (int off = 0; off < whole.Length; off += chunk)
            {
                f.Write(whole, off, Math.Min(chunk, whole.Length - off));
                f.Flush();
                lastWrite = DateTime.UtcNow;
                Thread.Sleep(150);
            }
            done.SetResult();
        });
        thread.Start();
        var writer = done.Task;

        await Task.Delay(50);
        DateTime? takenAt = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (takenAt is null)
        {
            var ready = tracker.Update(dir.Path, InboxScanner.Scan(dir.Path), DateTime.UtcNow);
            if (ready.Count > 0)
            {
                takenAt = DateTime.UtcNow;
                Assert.True(writer.IsCompleted, "taken while still being written");
                Assert.Equal("slide.tif", ready[0].Name);
            }
            else Assert.True(tracker.Arriving <= 1);
            await Task.Delay(50);
            Assert.True(DateTime.UtcNow < deadline, "never became stable");
        }
        await writer;
        Assert.True(takenAt.Value - lastWrite >= stable, $"taken {(takenAt.Value - lastWrite).TotalMilliseconds} ms after the last write");
        Assert.Equal(whole.Length, new FileInfo(path).Length);
        Assert.True(SlideSniffer.Sniff(path).IsSlide);
    }

    [Fact]
    public async Task Mirax_unit_waits_for_files_in_its_data_folder()
    {
        using var dir = new TempDir("stable");
        var tracker = new StabilityTracker(TimeSpan.FromMilliseconds(300));
        File.WriteAllText(dir.File("s.mrxs"), "[GENERAL]\n");
        Directory.CreateDirectory(dir.File("s"));
        Assert.Empty(tracker.Update(dir.Path, InboxScanner.Scan(dir.Path), DateTime.UtcNow));
        await Task.Delay(400);
        // A data file arrives late: the unit changed, the clock restarts.
        File.WriteAllBytes(Path.Combine(dir.File("s"), "Data0000.dat"), new byte[1000]);
        Assert.Empty(tracker.Update(dir.Path, InboxScanner.Scan(dir.Path), DateTime.UtcNow));
        await Task.Delay(400);
        var ready = tracker.Update(dir.Path, InboxScanner.Scan(dir.Path), DateTime.UtcNow);
        Assert.Equal(new SlideUnit("s.mrxs", "s"), Assert.Single(ready));
    }

    [Fact]
    public void Hidden_and_partial_files_and_plain_folders_are_never_candidates()
    {
        using var dir = new TempDir("stable");
        foreach (var name in new[] { ".slide.svs.XYZ123", "a.svs.part", "b.tif.tmp", "c.ndpi~", "d.svs.crdownload", "real.svs" })
            File.WriteAllText(dir.File(name), "x");
        Directory.CreateDirectory(dir.File("folder.svs"));
        var names = InboxScanner.Scan(dir.Path).Select(u => u.Name).ToList();
        Assert.Equal(["real.svs"], names);
    }
}
