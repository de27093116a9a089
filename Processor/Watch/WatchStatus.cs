using WsiSegment.Stitching.Output;
using System.Text.Json;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Segmentation;

namespace WsiSegment.Processor.Watch;

/// <summary>
/// The live state of one worker, written to OUTBOX/status.json (atomically, at most once a second while working):
/// the current slide and its progress, the queue, counts and throughput.
/// </summary>
public sealed class WatchStatus
{
    private readonly object _gate = new();
    private readonly string _path;
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
    private readonly TimeSpan _minInterval;
    private DateTime _lastWrite = DateTime.MinValue;
    private string _state = "starting";
    private CurrentSlide? _current;
    private int _waiting, _arriving, _done, _failed, _skipped, _retries;
    private double _busySeconds;
    private double? _lastSeconds;

    public WatchStatus(string path, TimeSpan? minInterval = null)
    {
        _path = path;
        _minInterval = minInterval ?? TimeSpan.FromSeconds(1);
    }

    public sealed record CurrentSlide(string Slide, DateTimeOffset StartedUtc, int Attempt, string Stage, long Done, long Total, double Fraction, double PatchesPerSecond);

    public sealed record Snapshot(
        string State,
        WorkerInfo Worker,
        CurrentSlide? Current,
        QueueInfo Queue,
        Counts Counts,
        Throughput Throughput,
        DateTimeOffset UpdatedUtc);

    public sealed record WorkerInfo(string Host, int Pid, DateTimeOffset StartedUtc);
    public sealed record QueueInfo(int Waiting, int Arriving);
    public sealed record Counts(int Done, int Failed, int Skipped, int Retries);
    public sealed record Throughput(double SlidesPerHour, double? MeanSecondsPerSlide, double? LastSlideSeconds);

    public int Done { get { lock (_gate) return _done; } }
    public int Failed { get { lock (_gate) return _failed; } }

    public void SetState(string state) { lock (_gate) _state = state; Write(force: true); }

    public void SetQueue(int waiting, int arriving)
    {
        bool changed;
        lock (_gate)
        {
            changed = waiting != _waiting || arriving != _arriving;
            (_waiting, _arriving) = (waiting, arriving);
        }
        if (changed) Write(force: true);
    }

    public void Begin(string slide, int attempt)
    {
        lock (_gate) { _current = new CurrentSlide(slide, DateTimeOffset.UtcNow, attempt, "starting", 0, 0, 0, 0); _state = "working"; }
        Write(force: true);
    }

    public void Progress(PipelineProgress p)
    {
        lock (_gate)
        {
            if (_current is null) return;
            _current = _current with { Stage = p.Stage, Done = p.Done, Total = p.Total, Fraction = Math.Round(p.Fraction, 4), PatchesPerSecond = Math.Round(p.PatchesPerSecond, 2) };
        }
        Write(force: false);
    }

    public void Retry() { lock (_gate) _retries++; }

    /// <summary>Ends the current slide: "done", "failed", "skipped" or "abandoned".</summary>
    public void End(string outcome, double seconds)
    {
        lock (_gate)
        {
            switch (outcome)
            {
                case "done": _done++; _busySeconds += seconds; _lastSeconds = Math.Round(seconds, 3); break;
                case "failed": _failed++; break;
                case "skipped": _skipped++; break;
            }
            _current = null;
            _state = "idle";
        }
        Write(force: true);
    }

    public Snapshot Take()
    {
        lock (_gate)
        {
            var now = DateTimeOffset.UtcNow;
            double hours = Math.Max((now - _started).TotalHours, 1e-9);
            return new Snapshot(_state, new WorkerInfo(ProcessIdentity.Current.Host, ProcessIdentity.Current.Pid, _started), _current,
                new QueueInfo(_waiting, _arriving), new Counts(_done, _failed, _skipped, _retries),
                new Throughput(Math.Round(_done / hours, 2), _done > 0 ? Math.Round(_busySeconds / _done, 3) : null, _lastSeconds), now);
        }
    }

    /// <summary>Writes the file now (force) or when the last write is older than the minimum interval.</summary>
    public void Write(bool force)
    {
        lock (_gate)
        {
            var now = DateTime.UtcNow;
            if (!force && now - _lastWrite < _minInterval) return;
            _lastWrite = now;
        }
        var json = JsonSerializer.Serialize(Take(), JsonOutput.Options);
        try { lock (_path) AtomicFile.WriteAllText(_path, json, durable: false); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* status is best effort; the log has the facts */ }
    }
}
