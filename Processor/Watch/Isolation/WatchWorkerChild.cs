using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Segmentation;

namespace WsiSegment.Processor.Watch.Isolation;

/// <summary>
/// The `watch-worker` child process: loads the segmenter once from the settings of its first line, then segments the
/// slides it is sent one at a time, reporting progress and the outcome of each as <see cref="WorkerMessage"/> lines.
/// It stops when its stdin closes (the service is gone or done with it), cancelling a slide under way.
/// </summary>
public static class WatchWorkerChild
{
    /// <summary>
    /// Test seam, for the crash-isolation tests only: a slide whose file name equals this variable's value makes the
    /// worker call libc abort() right after reporting that slide's first progress, so the service sees a real child
    /// die by a real SIGABRT mid-slide. Inert when unset.
    /// </summary>
    public const string CrashSeamVariable = "WSISEGMENT_TEST_ABORT_ON_SLIDE";

    private static readonly TimeSpan ProgressEvery = TimeSpan.FromMilliseconds(500);

    public static async Task<int> RunAsync()
    {
        using var output = OpenProtocolOutput();
        using var input = new StreamReader(Console.OpenStandardInput());
        // SIGTERM and SIGINT reach the child too (systemd signals the whole control group, Ctrl+C the process group),
        // but the service decides when a slide stops (its grace period): the child ignores them and stops when told.
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => c.Cancel = true);
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true);
        using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, c => c.Cancel = true);

        var start = WorkerMessage.Parse(await input.ReadLineAsync() ?? "");
        if (start?.Type != WorkerMessage.Start)
        {
            Console.Error.WriteLine("watch-worker: expected a start line on stdin (this command is run by `wsi-segment watch`)");
            return CommandRunner.Failed;
        }
        var level = Enum.TryParse<LogLevel>(start.LogLevel, out var l) ? l : LogLevel.Information;
        using var logs = CommandRunner.CreateLoggerFactory(level);
        var log = logs.CreateLogger("wsi-segment.watch-worker");
        ISlideJob job;
        try
        {
            job = SegmenterJob.Create(new ConfigurationBuilder().AddInMemoryCollection(start.Settings ?? []).Build(), logs);
        }
        catch (Exception e)
        {
            log.LogDebug(e, "The worker could not load its segmenter");
            output.Send(new WorkerMessage(WorkerMessage.Failed) { Message = CommandRunner.Describe(e), ExceptionType = e.GetType().Name, Kind = "permanent" });
            return CommandRunner.Failed;
        }
        using (job)
        {
            output.Send(new WorkerMessage(WorkerMessage.Ready) { Pid = Environment.ProcessId, ModelHash = job.ModelHash, Classes = [.. job.ClassNames] });
            await ServeAsync(job, input, output, log);
        }
        return CommandRunner.Ok;
    }

    private static async Task ServeAsync(ISlideJob job, StreamReader input, ProtocolOutput output, ILogger log)
    {
        using var closed = new CancellationTokenSource();
        var slides = Channel.CreateUnbounded<WorkerMessage>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var gate = new object();
        CancellationTokenSource? current = null;
        var reading = Task.Run(async () =>
        {
            try
            {
                while (await input.ReadLineAsync() is { } line)
                {
                    var m = WorkerMessage.Parse(line);
                    if (m?.Type == WorkerMessage.Slide) slides.Writer.TryWrite(m);
                    else if (m?.Type == WorkerMessage.Cancel) lock (gate) current?.Cancel();
                }
            }
            catch (IOException) { }
            finally
            {
                // stdin closed: the service is done with us, or gone.
                closed.Cancel();
                slides.Writer.TryComplete();
            }
        });

        string? crashOn = Environment.GetEnvironmentVariable(CrashSeamVariable);
        await foreach (var request in slides.Reader.ReadAllAsync())
        {
            string slidePath = request.SlidePath!;
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(closed.Token);
            lock (gate) current = cts;
            var progress = new ProgressLines(output, crashOn is { Length: > 0 } && Path.GetFileName(slidePath) == crashOn);
            try
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var result = await job.RunAsync(slidePath, request.OutDir!, progress, cts.Token);
                output.Send(new WorkerMessage(WorkerMessage.Done)
                {
                    ReportPath = result.ReportPath, Sha256 = result.SlideSha256, Areas = [.. result.ClassAreasMm2], Seconds = clock.Elapsed.TotalSeconds,
                });
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                output.Send(new WorkerMessage(WorkerMessage.Cancelled));
            }
            catch (Exception e)
            {
                log.LogDebug(e, "{Slide} failed in the worker", slidePath);
                output.Send(new WorkerMessage(WorkerMessage.Failed)
                {
                    Message = CommandRunner.Describe(e),
                    ExceptionType = e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0].GetType().Name : e.GetType().Name,
                    Kind = FailureClassifier.Classify(e).ToString().ToLowerInvariant(),
                });
            }
            finally
            {
                lock (gate) current = null;
            }
        }
        await reading;
    }

    /// <summary>
    /// The protocol goes to a private duplicate of stdout, and stdout itself then points at stderr: a native library
    /// printing to stdout ends up in the log instead of in the middle of a protocol line.
    /// </summary>
    private static ProtocolOutput OpenProtocolOutput()
    {
        Stream stream;
        int fd = OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() ? dup(1) : -1;
        if (fd >= 0 && dup2(2, 1) >= 0) stream = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Write, bufferSize: 1);
        else stream = Console.OpenStandardOutput();
        return new ProtocolOutput(new StreamWriter(stream) { AutoFlush = true, NewLine = "\n" });
    }

    /// <summary>Writes whole lines, one writer at a time; a service that went away is not an error here (stdin closes too).</summary>
    private sealed class ProtocolOutput(StreamWriter writer) : IDisposable
    {
        public void Send(WorkerMessage m)
        {
            lock (writer)
            {
                try { writer.WriteLine(m.ToLine()); }
                catch (IOException) { }
            }
        }

        public void Dispose() => writer.Dispose();
    }

    /// <summary>Progress as lines: every change of stage at once, counts at most twice a second.</summary>
    private sealed class ProgressLines(ProtocolOutput output, bool abortAfterFirst) : IProgress<PipelineProgress>
    {
        private string? _stage;
        private DateTime _last;

        public void Report(PipelineProgress value)
        {
            var now = DateTime.UtcNow;
            if (value.Stage == _stage && now - _last < ProgressEvery && value.Done < value.Total) return;
            _stage = value.Stage;
            _last = now;
            output.Send(new WorkerMessage(WorkerMessage.Progress)
            {
                Stage = value.Stage, PatchesDone = value.Done, PatchesTotal = value.Total, PatchesPerSecond = value.PatchesPerSecond,
            });
            if (abortAfterFirst) abort();
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int dup(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int dup2(int fd, int fd2);

    [DllImport("libc")]
    private static extern void abort();
}
