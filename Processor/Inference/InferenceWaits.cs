using System.Diagnostics;

namespace WsiSegment.Processor.Inference;

/// <summary>
/// Where the inference thread stood idle during the stream, and why: waiting for its first patches (the pipeline
/// filling), for later patches (reading fell behind: I/O not hidden behind compute), or to hand scores to a merger
/// that had not caught up. Inference is the stage the rest should hide behind, so these say directly whether it did.
/// Written by the inference thread alone; read once the stream is over.
/// </summary>
internal sealed class InferenceWaits
{
    private long _fill, _input, _output;
    private bool _started;

    /// <summary>Times a wait for patches: pipeline fill until the first batch has run, input starvation after.</summary>
    public T ForPatches<T>(Func<T> wait)
    {
        long t0 = Stopwatch.GetTimestamp();
        try { return wait(); }
        finally
        {
            long ticks = Stopwatch.GetTimestamp() - t0;
            if (_started) _input += ticks;
            else _fill += ticks;
        }
    }

    /// <summary>Marks the first batch as run: later waits for patches are starvation.</summary>
    public void Started() => _started = true;

    /// <summary>Times handing a batch's scores to the merger (blocks while its queue is full).</summary>
    public void ForMerger(Action hand)
    {
        long t0 = Stopwatch.GetTimestamp();
        try { hand(); }
        finally { _output += Stopwatch.GetTimestamp() - t0; }
    }

    public PatchStreamStats Report(TimeSpan stream) => new(
        Math.Round(stream.TotalSeconds, 3), Seconds(_fill), Seconds(_input), Seconds(_output));

    private static double Seconds(long timestampTicks) => Math.Round((double)timestampTicks / Stopwatch.Frequency, 3);
}
