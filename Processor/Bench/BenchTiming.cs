using System.Diagnostics;

namespace WsiSegment.Processor.Bench;

/// <summary>Wall-clock timing for the benchmarks: milliseconds per call and the median of a series.</summary>
public static class BenchTiming
{
    public static double TimeOnce(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    /// <summary>Runs <paramref name="warmup"/> untimed calls, then times <paramref name="runs"/> calls.</summary>
    public static List<double> Time(int warmup, int runs, Action action)
    {
        for (int i = 0; i < warmup; i++) action();
        var times = new List<double>(runs);
        for (int i = 0; i < runs; i++) times.Add(TimeOnce(action));
        return times;
    }

    public static double Median(IReadOnlyCollection<double> values)
    {
        var v = values.Order().ToList();
        return v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2;
    }
}
