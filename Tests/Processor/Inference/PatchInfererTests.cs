using WsiSegment.Core.Scores;
using System.Collections.Concurrent;
using WsiSegment.Processor.Inference;
using WsiSegment.Tiling.Grid;

namespace WsiSegment.Tests.Processor.Inference;

/// <summary>
/// The patch-inference pipeline's orchestration, with a fake patch source, predictor and merger (the real stages are
/// covered end to end by the segment, seam and parity tests): batching, order, failure, cancellation, disposal.
/// </summary>
public class PatchInfererTests
{
    private const int Tile = 4;
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Skipped_patches_travel_in_order_without_taking_batch_slots()
    {
        // Run patches 1, 2, 5 | 6, 7, 9; the skipped ones ride with the batch they fall in, and the trailing ones
        // with a final batch of no run patches (no network call).
        var source = new FakeSource("SRRSSRRRSRSSS");
        var predictor = new FakePredictor();
        var merger = new FakeMerger();
        var stats = await new PatchInferer(batchSize: 3).RunAsync(source.Patches, source.Length, Tile, predictor, merger, null, default).WaitAsync(Hang);

        Assert.Equal([[1, 2, 5], [6, 7, 9]], predictor.Batches);
        Assert.Equal(Enumerable.Range(0, source.Length), merger.Merged.Select(m => m.Index));
        Assert.Equal(source.Pattern.Select(c => c == 'S'), merger.Merged.Select(m => m.Skipped));
        Assert.All(merger.Merged.Where(m => !m.Skipped), m => Assert.Equal(m.Index, m.Score)); // each patch got its own scores
        Assert.Single(predictor.Threads.Distinct()); // one dedicated inference thread
        Assert.True(stats.Seconds >= 0);
        source.AssertAllDisposed();
        predictor.AssertAllDisposedOnce(expected: 2);
    }

    [Fact]
    public async Task Progress_counts_every_merged_patch_and_the_stream_times_its_fill()
    {
        var source = new FakeSource("RRSRRR") { DelayFirst = TimeSpan.FromSeconds(1) };
        var seen = new ConcurrentQueue<InferenceProgress>();
        var stats = await new PatchInferer(batchSize: 2).RunAsync(source.Patches, source.Length, Tile, new FakePredictor(), new FakeMerger(),
            new SyncProgress(seen.Enqueue), default).WaitAsync(Hang);

        Assert.Equal(source.Length, seen.Last().Merged);
        Assert.All(seen, p => Assert.Equal(source.Length, p.Total));
        // The network waited for its first patches (the source's delay, less the inference thread's later start): that
        // is fill, not starvation.
        Assert.True(stats.FillSeconds >= 0.5, $"fill {stats.FillSeconds}s");
        Assert.True(stats.Seconds >= stats.FillSeconds);
    }

    [Theory]
    [InlineData("source")]
    [InlineData("predictor")]
    [InlineData("merger")]
    public async Task A_failing_stage_cancels_the_others_and_is_the_one_error_surfaced(string failing)
    {
        // An endless source: the run only ends if the failure stops the other stages.
        var source = new FakeSource("RSRRR", endless: true) { FailAt = failing == "source" ? 40 : null };
        var predictor = new FakePredictor { FailAtCall = failing == "predictor" ? 5 : null };
        var merger = new FakeMerger { FailAt = failing == "merger" ? 30 : null };

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            new PatchInferer(batchSize: 4).RunAsync(source.Patches, 0, Tile, predictor, merger, null, default).WaitAsync(Hang));

        Assert.Equal($"{failing} failed", e.Message);
        source.AssertAllDisposed();
        predictor.AssertAllDisposedOnce();
    }

    [Fact]
    public async Task Cancelling_from_outside_stops_every_stage_and_leaks_nothing()
    {
        using var cts = new CancellationTokenSource();
        var source = new FakeSource("RRSR", endless: true);
        var predictor = new FakePredictor();
        var merger = new FakeMerger { OnMerged = n => { if (n == 25) cts.Cancel(); } };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            new PatchInferer(batchSize: 3).RunAsync(source.Patches, 0, Tile, predictor, merger, null, cts.Token).WaitAsync(Hang));

        source.AssertAllDisposed();
        predictor.AssertAllDisposedOnce();
    }

    [Fact]
    public async Task A_predictor_that_returns_too_few_scores_is_an_error_not_a_misplaced_patch()
    {
        var source = new FakeSource("RRRR");
        var predictor = new FakePredictor { Short = true };
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            new PatchInferer(batchSize: 2).RunAsync(source.Patches, source.Length, Tile, predictor, new FakeMerger(), null, default).WaitAsync(Hang));
        Assert.Contains("1 score images for 2 patches", e.Message);
        source.AssertAllDisposed();
        predictor.AssertAllDisposedOnce();
    }

    /// <summary>Patches after a pattern ('R' run, 'S' skipped), each run patch's pixels all equal to its index (mod 256).</summary>
    private sealed class FakeSource(string pattern, bool endless = false)
    {
        private readonly ConcurrentQueue<Patch> _made = new();

        public string Pattern => pattern;
        public int Length => pattern.Length;
        public int? FailAt { get; init; }
        public TimeSpan DelayFirst { get; init; }

        public IEnumerable<Patch> Patches(CancellationToken ct)
        {
            if (DelayFirst > TimeSpan.Zero) Thread.Sleep(DelayFirst);
            for (int i = 0; endless || i < pattern.Length; i++)
            {
                ct.ThrowIfCancellationRequested();
                if (i == FailAt) throw new InvalidOperationException("source failed");
                var at = new PatchPosition(i, i / 8, i % 8, 0, 0);
                Patch p;
                if (pattern[i % pattern.Length] == 'S') p = Patch.CreateSkipped(at, Tile);
                else
                {
                    p = Patch.Rent(at, Tile);
                    p.Rgb.Span.Fill((byte)i);
                }
                _made.Enqueue(p);
                yield return p;
            }
        }

        public void AssertAllDisposed()
        {
            Assert.NotEmpty(_made);
            foreach (var p in _made.Where(p => !p.Skipped))
                Assert.Throws<ObjectDisposedException>(() => p.Rgb);
        }
    }

    private sealed class FakePredictor : IPatchPredictor
    {
        private readonly ConcurrentQueue<FakeScores> _made = new();
        public List<int[]> Batches { get; } = [];
        public List<int> Threads { get; } = [];
        public int? FailAtCall { get; init; }
        public bool Short { get; init; }

        public IPatchScores Predict(ReadOnlySpan<byte> rgb, int count, int tile)
        {
            Threads.Add(Environment.CurrentManagedThreadId);
            if (Batches.Count + 1 == FailAtCall) throw new InvalidOperationException("predictor failed");
            int bytes = tile * tile * 3;
            Assert.Equal(count * bytes, rgb.Length);
            var ids = new int[count];
            for (int k = 0; k < count; k++) ids[k] = rgb[k * bytes];
            Batches.Add(ids);
            var scores = new FakeScores(Short ? ids[..^1] : ids);
            _made.Enqueue(scores);
            return scores;
        }

        public void AssertAllDisposedOnce(int? expected = null)
        {
            if (expected is { } n) Assert.Equal(n, _made.Count);
            Assert.All(_made, s => Assert.Equal(1, s.Disposals));
        }
    }

    private sealed class FakeScores(int[] ids) : IPatchScores
    {
        private int _disposals;
        public int Disposals => _disposals;
        public int Count => ids.Length;
        public ScoreLayout Layout => new(ScoreKind.Logits, 1);

        public ReadOnlySpan<float> Image(int index)
        {
            Assert.Equal(0, _disposals);
            return new float[] { ids[index] };
        }

        public void Dispose() => Interlocked.Increment(ref _disposals);
    }

    private sealed class FakeMerger : IPatchMerger
    {
        public List<(int Index, bool Skipped, float Score)> Merged { get; } = [];
        public int? FailAt { get; init; }
        public Action<int>? OnMerged { get; init; }

        public void Aggregate(PatchPosition at, ReadOnlySpan<float> scores, ScoreLayout layout) => Add(at, false, scores[0]);

        public void Skip(PatchPosition at) => Add(at, true, float.NaN);

        private void Add(PatchPosition at, bool skipped, float score)
        {
            if (Merged.Count == FailAt) throw new InvalidOperationException("merger failed");
            // The score carries the patch's pixel value (its index mod 256).
            Merged.Add((at.Index, skipped, skipped ? float.NaN : score == (byte)at.Index ? at.Index : -1));
            OnMerged?.Invoke(Merged.Count);
        }
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; posts to the pool, after the run may have returned).</summary>
    private sealed class SyncProgress(Action<InferenceProgress> report) : IProgress<InferenceProgress>
    {
        public void Report(InferenceProgress value) => report(value);
    }
}
