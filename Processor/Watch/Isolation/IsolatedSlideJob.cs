using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using WsiSegment.Processor.Segmentation;

namespace WsiSegment.Processor.Watch.Isolation;

/// <summary>
/// The local executor with process isolation (`watch --isolation process`, the default): every slide is segmented in
/// a `watch-worker` child process that loads the model once and is kept for the next slide. A child that dies
/// mid-slide (a native abort or segfault in a decoder or writer, a kill) takes only that attempt with it: the slide
/// fails with <see cref="WorkerCrashedException"/> (counted by the service against --max-crashes), the staging folder
/// it left is removed, and the next attempt gets a new child.
/// </summary>
public sealed class IsolatedSlideJob : ISlideJob, IProcessBoundJob
{
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private readonly LogLevel _logLevel;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private SlideWorkerProcess? _worker;
    // A replacement started as soon as a worker is lost, so that its model load overlaps the slide's bookkeeping.
    private Task<SlideWorkerProcess>? _starting;

    private IsolatedSlideJob(IReadOnlyDictionary<string, string?> settings, LogLevel logLevel, SlideWorkerProcess first, ILogger log)
    {
        _settings = settings;
        _logLevel = logLevel;
        _log = log;
        _worker = first;
        ModelHash = first.ModelHash;
        ClassNames = first.ClassNames;
    }

    /// <summary>Starts the first worker (the service fails to start, as in-process, when the model cannot be loaded).</summary>
    public static IsolatedSlideJob Create(IConfiguration configuration, ILoggerFactory logs)
    {
        var log = logs.CreateLogger("wsi-segment.watch.isolation");
        // The child binds and validates these exactly as the in-process job does.
        var settings = configuration.GetSection(SegmenterJob.Section).AsEnumerable()
            .Where(kv => kv.Value is not null)
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.OrdinalIgnoreCase);
        var level = new[] { LogLevel.Trace, LogLevel.Debug, LogLevel.Information, LogLevel.Warning, LogLevel.Error }.FirstOrDefault(log.IsEnabled, LogLevel.Critical);
        var first = SlideWorkerProcess.StartAsync(settings, level, log, CancellationToken.None).GetAwaiter().GetResult();
        log.LogInformation("Process isolation: each slide is segmented in worker process {Pid}, kept across slides and replaced after a crash", first.Pid);
        return new IsolatedSlideJob(settings, level, first, log);
    }

    public string ModelHash { get; }

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Seconds the most recent worker took from its start to a loaded model.</summary>
    public double LastStartSeconds => _worker?.StartSeconds ?? 0;

    /// <summary>What the process boundary cost the last slide done (see <see cref="SlideWorkerProcess.LastProtocolSeconds"/>).</summary>
    public double LastProtocolSeconds { get; private set; }

    public async ValueTask<int> ReadyWorkerAsync(CancellationToken ct) => (await WorkerAsync(ct)).Pid;

    public async Task<SlideJobResult> RunAsync(string slidePath, string outDir, IProgress<PipelineProgress>? progress, CancellationToken ct)
    {
        var worker = await WorkerAsync(ct);
        try
        {
            var result = await worker.RunSlideAsync(slidePath, outDir, progress, ct);
            LastProtocolSeconds = worker.LastProtocolSeconds;
            return result;
        }
        catch (WorkerCrashedException)
        {
            Discard(worker, outDir, replace: true);
            throw;
        }
        catch (OperationCanceledException) when (worker.HasExited)
        {
            // Killed for not stopping when cancelled: usually the service is stopping, so no replacement yet.
            Discard(worker, outDir, replace: false);
            throw;
        }
    }

    /// <summary>The live worker, started anew if there is none (first use after a crash, or it died while idle).</summary>
    private async Task<SlideWorkerProcess> WorkerAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (_worker is { HasExited: false } alive) return alive;
            if (_worker is { } dead)
            {
                _log.LogWarning("Worker process {Pid} ended while idle; starting a new one", dead.Pid);
                dead.Dispose();
                _worker = null;
            }
            _worker = await StartWithBackoffAsync(ct);
            if (_worker.ModelHash != ModelHash)
                _log.LogWarning("The new worker loaded a model with hash {New}, not {Old}: the model file changed since the service started", _worker.ModelHash, ModelHash);
            return _worker;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// A new worker, tried again after a growing pause for as long as it takes: a worker that cannot start (the model
    /// file replaced by a broken one or moved away, memory short) is not the fault of the slide waiting for it, so no
    /// attempt of the slide is spent and nothing is failed; the slide stays claimed, and a stop puts it back.
    /// </summary>
    private async Task<SlideWorkerProcess> StartWithBackoffAsync(CancellationToken ct)
    {
        for (int failures = 0; ; failures++)
        {
            _starting ??= StartWorker();
            try { return await _starting.WaitAsync(ct); }
            catch (Exception e) when (e is WorkerStartException or Cli.UserError)
            {
                _starting = null;
                var delay = StartRetryDelay(failures);
                _log.LogError("A worker process could not start ({Failures} time(s) in a row): {Reason}; trying again in {Delay:0}s",
                    failures + 1, e.Message, delay.TotalSeconds);
                await Task.Delay(delay, ct);
            }
            finally { if (_starting?.IsCompleted == true) _starting = null; }
        }
    }

    /// <summary>1 s after the first failed start, doubling up to a minute.</summary>
    internal static TimeSpan StartRetryDelay(int failures) => TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, Math.Min(failures, 6))));

    private Task<SlideWorkerProcess> StartWorker() => Task.Run(() => SlideWorkerProcess.StartAsync(_settings, _logLevel, _log, CancellationToken.None));

    /// <summary>Drops a dead (or killed) worker and what it left in the slide's output folder, and starts its
    /// replacement if asked.</summary>
    private void Discard(SlideWorkerProcess worker, string outDir, bool replace)
    {
        _gate.Wait();
        try
        {
            if (ReferenceEquals(_worker, worker)) _worker = null;
            if (replace) _starting ??= StartWorker();
        }
        finally { _gate.Release(); }
        worker.Dispose();
        try
        {
            if (!Directory.Exists(outDir)) return;
            foreach (var dir in Directory.EnumerateDirectories(outDir, ".staging-*"))
                if (StagedBy(dir) == worker.Pid)
                    Directory.Delete(dir, recursive: true);
            // A folder the dead worker created for this slide and never filled.
            if (!Directory.EnumerateFileSystemEntries(outDir).Any()) Directory.Delete(outDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.LogWarning("Could not remove what worker {Pid} left in {OutDir}: {Reason}", worker.Pid, outDir, e.Message);
        }
    }

    /// <summary>The pid in a .staging-STEM-PID-GUID folder name.</summary>
    private static int? StagedBy(string dir)
    {
        string name = Path.GetFileName(dir);
        int last = name.LastIndexOf('-'), before = last > 0 ? name.LastIndexOf('-', last - 1) : -1;
        return before >= 0 && int.TryParse(name.AsSpan(before + 1, last - before - 1), out int pid) ? pid : null;
    }

    public void Dispose()
    {
        _worker?.Dispose();
        _worker = null;
        // A replacement still loading is stopped once it is up (or has failed to come up).
        try { _starting?.GetAwaiter().GetResult().Dispose(); }
        catch (Exception e) when (e is not OutOfMemoryException) { _log.LogDebug(e, "The replacement worker did not start"); }
        _starting = null;
    }
}
