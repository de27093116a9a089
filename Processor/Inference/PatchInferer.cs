using System.Diagnostics;
using System.Threading.Channels;
using WsiSegment.Tiling.Grid;

namespace WsiSegment.Processor.Inference;

/// <summary>
/// Runs a stream of patches through a network into a merger (MONAI's PatchInferer: splitter → batches → network →
/// merger), as three concurrent stages joined by bounded channels: the patch source on the thread pool, the
/// predictor on ONE dedicated thread, the merger on the thread pool.
/// <para>Invariants: the merger sees every patch exactly once, in source order; a skipped patch never takes a batch
/// slot (it travels with the batch it falls in, in its place); every patch and every score batch is disposed exactly
/// once, whether the stream completes, fails or is cancelled; the first failure of any stage cancels the other two and
/// is the one exception surfaced (an <see cref="OperationCanceledException"/> only when the caller cancelled).</para>
/// </summary>
public sealed class PatchInferer
{
    private readonly int _batchSize;
    private readonly StageClock _clock;

    /// <param name="batchSize">Patches per network call (skipped patches not counted).</param>
    /// <param name="clock">Receives the busy time of "read", "inference" and "stitch".</param>
    public PatchInferer(int batchSize, StageClock? clock = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _batchSize = batchSize;
        _clock = clock ?? new StageClock();
    }

    /// <summary>Streams the patches of <paramref name="patches"/> (all of <paramref name="tile"/>² pixels,
    /// <paramref name="total"/> of them, for progress) through <paramref name="predictor"/> into <paramref name="merger"/>.
    /// The source is given the token that stops the stream, so a failure elsewhere also stops a long read.</summary>
    public async Task<PatchStreamStats> RunAsync(Func<CancellationToken, IEnumerable<Patch>> patches, long total, int tile, IPatchPredictor predictor, IPatchMerger merger,
        IProgress<InferenceProgress>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(patches);
        ArgumentNullException.ThrowIfNull(predictor);
        ArgumentNullException.ThrowIfNull(merger);
        ArgumentOutOfRangeException.ThrowIfLessThan(tile, 1);
        using var stages = new SiblingTasks(ct);
        var queued = Channel.CreateBounded<Patch>(new BoundedChannelOptions(_batchSize * 2)
            { FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true });
        var scored = Channel.CreateBounded<ScoredBatch>(new BoundedChannelOptions(2)
            { FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true });
        var started = Stopwatch.StartNew();
        var waits = new InferenceWaits();

        stages.Add(Task.Run(() => ReadAsync(patches, queued.Writer, stages), stages.Token));
        // Inference runs on ONE dedicated thread with blocking channel calls: libtorch's OpenMP keeps a thread team per
        // calling thread, so hopping between pool threads (as awaits do) spins up competing teams (4x slower).
        stages.Add(Task.Factory.StartNew(() => Infer(queued.Reader, scored.Writer, predictor, tile, waits, stages),
            stages.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default));
        stages.Add(Task.Run(() => MergeAsync(scored.Reader, merger, total, started, progress, stages), stages.Token));
        try
        {
            await stages.WhenAllAsync().ConfigureAwait(false);
            return waits.Report(started.Elapsed);
        }
        finally
        {
            // Patches and scores still queued when a stage failed release their buffers (every stage has ended).
            while (queued.Reader.TryRead(out var left)) left.Dispose();
            while (scored.Reader.TryRead(out var batch)) batch.Scores?.Dispose();
        }
    }

    /// <summary>A batch's positions in source order (skipped ones included) and the scores of those that ran.</summary>
    private sealed record ScoredBatch((PatchPosition Position, bool Skipped)[] Positions, IPatchScores? Scores);

    private async Task ReadAsync(Func<CancellationToken, IEnumerable<Patch>> patches, ChannelWriter<Patch> queue, SiblingTasks stages)
    {
        var token = stages.Token;
        try
        {
            using var e = patches(token).GetEnumerator();
            while (true)
            {
                long t0 = Stopwatch.GetTimestamp();
                bool more = e.MoveNext();
                _clock.Add("read", Stopwatch.GetElapsedTime(t0));
                if (!more) break;
                var p = e.Current;
                try { await queue.WriteAsync(p, token).ConfigureAwait(false); }
                catch { p.Dispose(); throw; }
            }
            queue.Complete();
        }
        catch (Exception ex)
        {
            queue.TryComplete(ex);
            stages.CancelAll();
            throw;
        }
    }

    private void Infer(ChannelReader<Patch> queue, ChannelWriter<ScoredBatch> results, IPatchPredictor predictor, int tile,
        InferenceWaits waits, SiblingTasks stages)
    {
        var token = stages.Token;
        var pending = new List<Patch>(_batchSize * 2);
        int toRun = 0;
        long patchBytes = (long)tile * tile * 3;
        var input = new byte[_batchSize * patchBytes];
        try
        {
            while (waits.ForPatches(() => queue.WaitToReadAsync(token).AsTask().GetAwaiter().GetResult()))
            {
                while (queue.TryRead(out var p))
                {
                    pending.Add(p);
                    if (!p.Skipped && ++toRun == _batchSize) Flush();
                }
            }
            Flush();
            results.Complete();
        }
        catch (Exception ex)
        {
            foreach (var p in pending) p.Dispose();
            results.TryComplete(ex);
            stages.CancelAll();
            throw;
        }

        void Flush()
        {
            if (pending.Count == 0) return;
            IPatchScores? scores = null;
            if (toRun > 0)
            {
                int i = 0;
                foreach (var p in pending)
                {
                    if (p.Skipped) continue;
                    var rgb = p.Rgb.Span;
                    if (rgb.Length != patchBytes)
                        throw new ArgumentException($"patch {p.Position.Index} holds {rgb.Length} bytes, not {tile}×{tile}×3");
                    rgb.CopyTo(input.AsSpan((int)(i++ * patchBytes), (int)patchBytes));
                }
                long t0 = Stopwatch.GetTimestamp();
                scores = predictor.Predict(input.AsSpan(0, (int)(toRun * patchBytes)), toRun, tile);
                _clock.Add("inference", Stopwatch.GetElapsedTime(t0));
                waits.Started();
                if (scores.Count != toRun)
                {
                    scores.Dispose();
                    throw new InvalidOperationException($"the predictor returned {scores.Count} score images for {toRun} patches");
                }
            }
            var positions = pending.Select(p => (p.Position, p.Skipped)).ToArray();
            foreach (var p in pending) p.Dispose();
            pending.Clear();
            toRun = 0;
            try { waits.ForMerger(() => results.WriteAsync(new ScoredBatch(positions, scores), token).AsTask().GetAwaiter().GetResult()); }
            catch { scores?.Dispose(); throw; }
        }
    }

    private async Task MergeAsync(ChannelReader<ScoredBatch> results, IPatchMerger merger, long total, Stopwatch started,
        IProgress<InferenceProgress>? progress, SiblingTasks stages)
    {
        long done = 0;
        try
        {
            await foreach (var batch in results.ReadAllAsync(stages.Token).ConfigureAwait(false))
            {
                long t0 = Stopwatch.GetTimestamp();
                using (batch.Scores)
                {
                    int k = 0;
                    foreach (var (at, skipped) in batch.Positions)
                    {
                        if (skipped) merger.Skip(at);
                        else merger.Aggregate(at, batch.Scores!.Image(k++), batch.Scores.Layout);
                        done++;
                    }
                }
                _clock.Add("stitch", Stopwatch.GetElapsedTime(t0));
                progress?.Report(new InferenceProgress(done, total, done / Math.Max(1e-3, started.Elapsed.TotalSeconds)));
            }
        }
        catch
        {
            stages.CancelAll();
            throw;
        }
    }
}
