using WsiSegment.Processor.Watch;
using WsiSegment.Processor.Watch.Isolation;

namespace WsiSegment.Tests.Processor.Watch;

/// <summary>The watch worker's line protocol and how a child's end is put in words.</summary>
public class WorkerProtocolTests
{
    [Fact]
    public void Messages_survive_a_line_and_other_lines_are_not_messages()
    {
        var done = new WorkerMessage(WorkerMessage.Done) { ReportPath = "/out/s/s.json", Sha256 = "ab", Areas = [1.5, double.NaN, 0] };
        string line = done.ToLine();
        Assert.DoesNotContain('\n', line);
        var back = WorkerMessage.Parse(line)!;
        Assert.Equal(WorkerMessage.Done, back.Type);
        Assert.Equal("/out/s/s.json", back.ReportPath);
        Assert.Equal(3, back.Areas!.Count);
        Assert.True(double.IsNaN(back.Areas[1]));

        var start = WorkerMessage.Parse(new WorkerMessage(WorkerMessage.Start) { Settings = new() { ["Watch:Segment:Tile"] = "256" } }.ToLine())!;
        Assert.Equal("256", start.Settings!["Watch:Segment:Tile"]);

        Assert.Null(WorkerMessage.Parse(""));
        Assert.Null(WorkerMessage.Parse("[W1201 NNPACK.cpp:56] Could not initialize NNPACK!"));
        Assert.Null(WorkerMessage.Parse("{\"type\":"));
        Assert.Null(WorkerMessage.Parse("{\"stage\":\"x\"}"));
    }

    [Theory]
    [InlineData(134, "was killed by SIGABRT (exit status 134)")]
    [InlineData(137, "was killed by SIGKILL (exit status 137)")]
    [InlineData(139, "was killed by SIGSEGV (exit status 139)")]
    [InlineData(1, "exited with status 1")]
    [InlineData(0, "exited with status 0")]
    public void Exit_statuses_name_the_signal(int status, string expected) => Assert.Equal(expected, ExitStatus.Describe(status));

    [Fact]
    public void Errors_reported_by_the_worker_keep_their_kind_and_words()
    {
        var e = new WorkerReportedException("/in/s.svs: tile 3 could not be decoded", "CorruptSlideException", FailureKind.Permanent);
        Assert.Equal(FailureKind.Permanent, FailureClassifier.Classify(e));
        Assert.Equal(FailureKind.Transient, FailureClassifier.Classify(new WorkerReportedException("disk full", "IOException", FailureKind.Transient)));
        Assert.Equal("/in/s.svs: tile 3 could not be decoded", WsiSegment.Processor.Cli.CommandRunner.Describe(e));
    }
}
