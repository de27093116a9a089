using System.Text.Json;
using WsiSegment.Processor.Watch;

namespace WsiSegment.Tests.Processor.Watch;

public class SlideMoverTests
{
    [Fact]
    public void Failed_slide_goes_to_failed_with_an_error_json_naming_reason_stage_type_and_attempts()
    {
        using var fx = new WatchFixture();
        File.WriteAllText(fx.Inbox("bad.svs"), "text");
        var mover = fx.NewMover();
        var unit = SlideUnit.For("bad.svs");
        Assert.True(mover.TakeIntoProcessing(unit));

        string moved = mover.ToFailed(unit, new SlideFailure("bad.svs", "not a slide: a text file", "sniff", "NotASlide", 1, "permanent", "h", 1, DateTimeOffset.UtcNow));

        Assert.Equal(Path.Combine(fx.Folders.Failed, "bad.svs"), moved);
        Assert.True(File.Exists(moved));
        Assert.Empty(Directory.GetFiles(fx.Folders.Processing));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(fx.Folders.Failed, "bad.error.json")));
        var e = doc.RootElement;
        Assert.Equal("not a slide: a text file", e.GetProperty("reason").GetString());
        Assert.Equal("sniff", e.GetProperty("stage").GetString());
        Assert.Equal("NotASlide", e.GetProperty("exceptionType").GetString());
        Assert.Equal(1, e.GetProperty("attempts").GetInt32());
        Assert.Equal(moved, e.GetProperty("slide").GetString());
    }

    [Fact]
    public void Same_name_finished_twice_keeps_both_copies()
    {
        using var fx = new WatchFixture();
        var mover = fx.NewMover();
        var unit = SlideUnit.For("s.tif");
        for (int i = 0; i < 2; i++)
        {
            File.WriteAllBytes(fx.Inbox("s.tif"), [(byte)i]);
            Assert.True(mover.TakeIntoProcessing(unit));
            mover.ToDone(unit);
        }
        var all = Directory.GetFiles(fx.Folders.Done, "s.tif", SearchOption.AllDirectories).Select(File.ReadAllBytes).Select(b => b[0]).Order();
        Assert.Equal(new byte[] { 0, 1 }, all);
    }

    [Fact]
    public void Mirax_file_and_its_folder_move_together_and_come_back_together()
    {
        using var fx = new WatchFixture();
        File.WriteAllText(fx.Inbox("m.mrxs"), "[GENERAL]\n");
        Directory.CreateDirectory(fx.Inbox("m"));
        File.WriteAllText(Path.Combine(fx.Inbox("m"), "Slidedat.ini"), "[GENERAL]\n");
        var mover = fx.NewMover();
        var unit = Assert.Single(InboxScanner.Scan(fx.Folders.Inbox));

        Assert.True(mover.TakeIntoProcessing(unit));
        Assert.True(File.Exists(Path.Combine(fx.Folders.Processing, "m", "Slidedat.ini")));
        Assert.False(Directory.Exists(fx.Inbox("m")));
        Assert.True(SlideSniffer.Sniff(unit.MainIn(fx.Folders.Processing), Path.Combine(fx.Folders.Processing, "m")).IsSlide);

        Assert.Equal(fx.Inbox("m.mrxs"), mover.ReturnToInbox(unit));
        Assert.True(File.Exists(Path.Combine(fx.Inbox("m"), "Slidedat.ini")));
        Assert.True(mover.TakeIntoProcessing(unit));
        mover.ToDone(unit);
        Assert.True(File.Exists(Path.Combine(fx.Folders.Done, "m", "Slidedat.ini")));
        Assert.True(File.Exists(Path.Combine(fx.Folders.Done, "m.mrxs")));
    }

    [Fact]
    public void A_slide_taken_by_someone_else_is_not_taken_again()
    {
        using var fx = new WatchFixture();
        var mover = fx.NewMover();
        Assert.False(mover.TakeIntoProcessing(SlideUnit.For("absent.tif")));
    }

    [Theory]
    [InlineData(typeof(IOException), FailureKind.Transient)]
    [InlineData(typeof(OutOfMemoryException), FailureKind.Transient)]
    [InlineData(typeof(InvalidOperationException), FailureKind.Permanent)]
    public void Failures_are_classified_for_retry(Type type, FailureKind expected) =>
        Assert.Equal(expected, FailureClassifier.Classify((Exception)Activator.CreateInstance(type, "x")!));

    [Fact]
    public void Corrupt_and_not_a_slide_are_never_retried()
    {
        Assert.Equal(FailureKind.Permanent, FailureClassifier.Classify(new WsiSegment.Tiling.Slides.CorruptSlideException("a", "b")));
        Assert.Equal(FailureKind.Permanent, FailureClassifier.Classify(new WsiSegment.Tiling.Slides.NotASlideException("a", "b")));
        Assert.Equal(FailureKind.Transient, FailureClassifier.Classify(new System.Runtime.InteropServices.ExternalException("CUDA out of memory. Tried to allocate")));
    }
}
