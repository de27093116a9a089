using System.Diagnostics;
using Microsoft.Extensions.Logging;
using WsiSegment.Processor.Bench;
using WsiSegment.Processor.Segmentation;

namespace WsiSegment.Processor.Watch.Isolation;

/// <summary>
/// One `wsi-segment watch-worker` child, seen from the service: started with the segment settings, it loads the model
/// once and then takes slides one at a time (<see cref="RunSlideAsync"/>). Its log lines (stderr) are passed on to the
/// service's stderr as they come, the last few kept for the report of a crash. A child that dies mid-slide ends that
/// slide with <see cref="WorkerCrashedException"/>; the caller starts a new one.
/// </summary>
public sealed partial class SlideWorkerProcess : IDisposable
{
    /// <summary>How long a cancelled slide may take to stop in the child before the child is killed.</summary>
    public static readonly TimeSpan CancelWait = TimeSpan.FromSeconds(5);

    private const int TailLines = 6;

    private readonly Process _process;
    private readonly ILogger _log;
    private readonly Queue<string> _tail = new();
    private readonly Task _stderrPump;

    private SlideWorkerProcess(Process process, ILogger log)
    {
        _process = process;
        _log = log;
        Pid = process.Id;
        _stderrPump = Task.Run(PumpStderrAsync);
    }

    public int Pid { get; }

    public string ModelHash { get; private set; } = "";

    public IReadOnlyList<string> ClassNames { get; private set; } = [];

    /// <summary>Seconds from the start of the process until it reported its model loaded.</summary>
    public double StartSeconds { get; private set; }

    public bool HasExited => _process.HasExited;

    /// <summary>Of the last slide done: the service's wall seconds less the child's own, i.e. what the process
    /// boundary cost (request, progress and result lines, waking up on each side).</summary>
    public double LastProtocolSeconds { get; private set; }

    /// <summary>Starts a child and waits until it has loaded the model.</summary>
    public static async Task<SlideWorkerProcess> StartAsync(IReadOnlyDictionary<string, string?> settings, LogLevel logLevel, ILogger log, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var psi = SelfProcess.StartInfo([Commands.WatchWorkerCommand.Name]);
        psi.RedirectStandardInput = true;
        Process process;
        try { process = Process.Start(psi) ?? throw new WorkerStartException($"{psi.FileName}: the worker process did not start"); }
        catch (System.ComponentModel.Win32Exception e) { throw new WorkerStartException($"{psi.FileName}: cannot start the worker process ({e.Message})", e); }
        var worker = new SlideWorkerProcess(process, log);
        try
        {
            worker.Send(new WorkerMessage(WorkerMessage.Start) { Settings = new(settings), LogLevel = logLevel.ToString() });
            var reply = await worker.ReadAsync(ct);
            if (reply?.Type == WorkerMessage.Ready)
            {
                worker.ModelHash = reply.ModelHash ?? "";
                worker.ClassNames = reply.Classes ?? [];
                worker.StartSeconds = clock.Elapsed.TotalSeconds;
                log.LogInformation("Worker process {Pid} ready in {Seconds:0.0}s", worker.Pid, worker.StartSeconds);
                return worker;
            }
            string why = reply?.Type == WorkerMessage.Failed ? reply.Message ?? "failed" : await worker.EndedAsync();
            // A settings or model error is the user's to fix: the same one the in-process service gives.
            if (reply?.Type == WorkerMessage.Failed) throw new Cli.UserError(why);
            throw new WorkerStartException($"the worker process (pid {worker.Pid}) {why} before it was ready");
        }
        catch
        {
            worker.Dispose();
            throw;
        }
    }

    /// <summary>Segments one slide in the child. Cancellation asks the child to stop the slide (outputs removed
    /// there) and kills it if it does not within <see cref="CancelWait"/>.</summary>
    public async Task<SlideJobResult> RunSlideAsync(string slidePath, string outDir, IProgress<PipelineProgress>? progress, CancellationToken ct)
    {
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        string? stage = null;
        if (!Send(new WorkerMessage(WorkerMessage.Slide) { SlidePath = slidePath, OutDir = outDir }))
            throw new WorkerCrashedException(slidePath, Pid, started, null, await EndedAsync());
        using var stopping = new CancellationTokenSource();
        using var onCancel = ct.Register(() =>
        {
            Send(new WorkerMessage(WorkerMessage.Cancel));
            stopping.CancelAfter(CancelWait);
        });
        while (true)
        {
            WorkerMessage? m;
            try { m = await ReadAsync(stopping.Token); }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                _log.LogWarning("Worker process {Pid} did not stop {Slide} within {Seconds}s of being cancelled; killing it", Pid, Path.GetFileName(slidePath), CancelWait.TotalSeconds);
                Kill();
                throw new OperationCanceledException(ct);
            }
            switch (m?.Type)
            {
                case null:
                    throw new WorkerCrashedException(slidePath, Pid, started, stage, await EndedAsync());
                case WorkerMessage.Progress:
                    stage = m.Stage ?? stage;
                    progress?.Report(new PipelineProgress(slidePath, stage ?? "", m.PatchesDone, m.PatchesTotal, m.PatchesPerSecond));
                    break;
                case WorkerMessage.Done:
                    LastProtocolSeconds = clock.Elapsed.TotalSeconds - m.Seconds;
                    return new SlideJobResult(m.ReportPath ?? "", m.Sha256 ?? "", m.Areas ?? []);
                case WorkerMessage.Failed:
                    throw new WorkerReportedException(m.Message ?? "failed in the worker process", m.ExceptionType ?? "Exception",
                        m.Kind == "transient" ? FailureKind.Transient : FailureKind.Permanent);
                case WorkerMessage.Cancelled:
                    throw new OperationCanceledException(ct);
            }
        }
    }

    /// <summary>The next protocol line from the child; null once its output has ended (it exited or died).</summary>
    private async Task<WorkerMessage?> ReadAsync(CancellationToken ct)
    {
        while (await _process.StandardOutput.ReadLineAsync(ct) is { } line)
        {
            if (WorkerMessage.Parse(line) is { } m) return m;
            Console.Error.WriteLine(line);
        }
        return null;
    }

    private bool Send(WorkerMessage m)
    {
        try
        {
            lock (_process)
            {
                _process.StandardInput.WriteLine(m.ToLine());
                _process.StandardInput.Flush();
            }
            return true;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException) { return false; }
    }

    /// <summary>Waits for the child's end and says how it ended: the signal that killed it or its exit status, with
    /// its last lines of output.</summary>
    private async Task<string> EndedAsync()
    {
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try { await _process.WaitForExitAsync(wait.Token); }
        catch (OperationCanceledException)
        {
            Kill();
            return "stopped answering (killed)";
        }
        try { await _stderrPump.WaitAsync(TimeSpan.FromSeconds(2)); } catch (TimeoutException) { }
        string how = ExitStatus.Describe(_process.ExitCode);
        string? last;
        lock (_tail) last = _tail.LastOrDefault(Telling);
        return last is null ? how : $"{how}, last output \"{last}\"";
    }

    /// <summary>A line that may say why a process died (a native library's last words, our own warnings and errors),
    /// not the routine log: information lines and libtorch's start-up warnings.</summary>
    private static bool Telling(string line) =>
        !line.StartsWith("[W", StringComparison.Ordinal) && !LogLine().IsMatch(line) || WarnLine().IsMatch(line);

    [System.Text.RegularExpressions.GeneratedRegex(@"^\d\d:\d\d:\d\d (trce|dbug|info|warn|fail|crit): ")]
    private static partial System.Text.RegularExpressions.Regex LogLine();

    [System.Text.RegularExpressions.GeneratedRegex(@"^\d\d:\d\d:\d\d (warn|fail|crit): ")]
    private static partial System.Text.RegularExpressions.Regex WarnLine();

    private async Task PumpStderrAsync()
    {
        try
        {
            while (await _process.StandardError.ReadLineAsync() is { } line)
            {
                Console.Error.WriteLine(line);
                lock (_tail)
                {
                    _tail.Enqueue(line.Length > 300 ? line[..300] : line);
                    if (_tail.Count > TailLines) _tail.Dequeue();
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException) { }
    }

    private void Kill()
    {
        try
        {
            if (_process.HasExited) return;
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { }
    }

    /// <summary>Closes the child's stdin (it finishes and exits) and kills it if it has not gone within a few seconds.</summary>
    public void Dispose()
    {
        try { _process.StandardInput.Close(); }
        catch (Exception e) when (e is IOException or InvalidOperationException) { }
        if (!_process.WaitForExit(TimeSpan.FromSeconds(10))) Kill();
        _process.Dispose();
    }
}
