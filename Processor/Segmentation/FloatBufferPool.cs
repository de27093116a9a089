using System.Collections.Concurrent;

namespace WsiSegment.Processor.Segmentation;

/// <summary>
/// A few same-sized float buffers reused across batches (a batch of 1024² probabilities is tens of MB:
/// allocating one per batch would churn the large-object heap). The bounded channels between stages bound
/// how many are out at once.
/// </summary>
public sealed class FloatBufferPool(long length)
{
    private readonly ConcurrentBag<float[]> _free = new();

    public long Length { get; } = length;

    public float[] Rent() => _free.TryTake(out var b) ? b : new float[Length];

    public void Return(float[] buffer)
    {
        if (buffer.LongLength == Length) _free.Add(buffer);
    }
}
