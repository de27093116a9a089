using System.Diagnostics;

namespace WsiSegment.Processor.Inference;

/// <summary>
/// Busy time per pipeline stage (reading, inference, stitching, writing…), so a report can say where the time
/// went and a benchmark can show that I/O hides behind compute. Thread-safe; each stage adds its own time.
/// </summary>
public sealed class StageClock
{
    private readonly Dictionary<string, long> _ticks = new();
    private readonly object _gate = new();

    public void Add(string stage, TimeSpan elapsed)
    {
        lock (_gate) _ticks[stage] = _ticks.GetValueOrDefault(stage) + elapsed.Ticks;
    }

    /// <summary>Times <paramref name="action"/> under <paramref name="stage"/>.</summary>
    public T Time<T>(string stage, Func<T> action)
    {
        long start = Stopwatch.GetTimestamp();
        try { return action(); }
        finally { Add(stage, Stopwatch.GetElapsedTime(start)); }
    }

    public void Time(string stage, Action action)
    {
        long start = Stopwatch.GetTimestamp();
        try { action(); }
        finally { Add(stage, Stopwatch.GetElapsedTime(start)); }
    }

    public IReadOnlyDictionary<string, double> Seconds()
    {
        lock (_gate) return _ticks.ToDictionary(kv => kv.Key, kv => Math.Round(TimeSpan.FromTicks(kv.Value).TotalSeconds, 3));
    }
}
