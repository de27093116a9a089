using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace WsiSegment.Model.Training;

/// <summary>
/// Decodes and augments patches on a background task while the network trains on the previous batch: a bounded
/// channel of ready batches (the loader waits when it is full, so memory stays at a few batches). A bad file
/// ends the epoch with a <see cref="DatasetFormatException"/> naming it, or is skipped with a warning.
/// The order and every random choice derive from (seed, epoch, patch), so a run is reproducible.
/// </summary>
public sealed class BatchLoader
{
    private readonly ImageFileReader _reader;
    private readonly PatchAugmenter _augmenter;
    private readonly int _classes;
    private readonly bool _skipBad;
    private readonly ILogger? _log;
    private readonly Stain.StainTransform? _stain;

    public BatchLoader(ImageFileReader reader, PatchAugmenter augmenter, int classes, bool skipBad, ILogger? log, Stain.StainTransform? stain = null)
    {
        _stain = stain;
        _reader = reader;
        _augmenter = augmenter;
        _classes = classes;
        _skipBad = skipBad;
        _log = log;
    }

    /// <summary>Batches of one pass over <paramref name="samples"/> (shuffled and augmented when <paramref name="train"/>).
    /// Stopping the enumeration early also stops the background loader.</summary>
    public async IAsyncEnumerable<TrainingBatch> Epoch(IReadOnlyList<PatchSample> samples, int batchSize, int crop, int labelStride,
        bool train, int seed, int epoch, [EnumeratorCancellation] CancellationToken ct)
    {
        if (crop % 8 != 0) throw new ArgumentException($"crop {crop} must be a multiple of 8");
        var channel = Channel.CreateBounded<TrainingBatch>(new BoundedChannelOptions(3)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = true,
        });
        var order = Enumerable.Range(0, samples.Count).ToArray();
        if (train) new Random(Seeds.Mix(seed, epoch, -1)).Shuffle(order);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var token = stop.Token;
        var producer = Task.Run(async () =>
        {
            try
            {
                for (int start = 0; start < order.Length; start += batchSize)
                {
                    token.ThrowIfCancellationRequested();
                    var batch = Build(samples, order.AsSpan(start, Math.Min(batchSize, order.Length - start)).ToArray(), crop, labelStride, train, seed, epoch);
                    if (batch is not null) await channel.Writer.WriteAsync(batch, token);
                }
                channel.Writer.Complete();
            }
            catch (Exception e)
            {
                // The reader sees this exception (e.g. a DatasetFormatException naming the file) at its next read.
                channel.Writer.Complete(e);
            }
        }, CancellationToken.None);
        try
        {
            await foreach (var batch in channel.Reader.ReadAllAsync(ct))
                yield return batch;
        }
        finally
        {
            stop.Cancel();
            try { await producer; } catch (OperationCanceledException) { }
        }
    }

    private TrainingBatch? Build(IReadOnlyList<PatchSample> samples, int[] indices, int crop, int labelStride, bool train, int seed, int epoch)
    {
        int plane = crop * crop, labelSize = crop / labelStride, labelPlane = labelSize * labelSize;
        var inputs = new float[indices.Length * 3 * plane];
        var labels = new byte[indices.Length * labelPlane];
        var full = labelStride == 1 ? null : new byte[plane];
        int n = 0;
        foreach (int i in indices)
        {
            var sample = samples[i];
            DecodedImage image, label;
            try
            {
                (image, label) = PatchDataset.Read(sample, _classes, _reader);
            }
            catch (DatasetFormatException e) when (_skipBad)
            {
                _log?.LogWarning("Skipping {File} in epoch {Epoch}: {Reason}", e.FilePath, epoch + 1, e.Reason);
                continue;
            }
            // Stain normalisation first, as inference does it; the colour augmentation then varies the normalised stains.
            if (_stain is not null) image = image with { Pixels = _stain.ApplyToBytes(image.Pixels, image.Width, image.Height) };
            var random = train ? new Random(Seeds.Mix(seed, epoch, i)) : null;
            var input = inputs.AsSpan(n * 3 * plane, 3 * plane);
            if (full is null)
            {
                _augmenter.Apply(image, label, crop, random, input, labels.AsSpan(n * labelPlane, labelPlane));
            }
            else
            {
                _augmenter.Apply(image, label, crop, random, input, full);
                PatchAugmenter.DownsampleLabels(full, crop, labelStride, labels.AsSpan(n * labelPlane, labelPlane));
            }
            n++;
        }
        if (n == 0) return null;
        if (n < indices.Length)
        {
            Array.Resize(ref inputs, n * 3 * plane);
            Array.Resize(ref labels, n * labelPlane);
        }
        return new TrainingBatch(inputs, labels, n, crop, labelSize);
    }
}

/// <summary>Deterministic seed mixing (SplitMix64), stable across processes unlike HashCode.Combine.</summary>
internal static class Seeds
{
    public static int Mix(int seed, int a, int b)
    {
        ulong z = unchecked((ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)(uint)a * 0xBF58476D1CE4E5B9UL + (ulong)(uint)b * 0x94D049BB133111EBUL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }
}
