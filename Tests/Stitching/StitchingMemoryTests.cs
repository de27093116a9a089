using System.Diagnostics;
using WsiSegment.Stitching.Output;
using WsiSegment.Stitching.Spooling;
using WsiSegment.Tests.Support;
using Xunit.Abstractions;

namespace WsiSegment.Tests.Stitching;

/// <summary>Memory that does not grow with the slide: a 20000×20000 (400 MP) spool is written block by block and
/// turned into a pyramid while the process's resident set is sampled.</summary>
[Collection(WsiSegment.Tests.Tiling.MemoryCollection.Name)]
public class StitchingMemoryTests(ITestOutputHelper output)
{
    private const int Side = 20_000, Block = 960;

    /// <summary>Set WSI_SEGMENT_BENCH=1 to also write the OME-TIFF and the overlay (about a minute more).</summary>
    private static bool Full => Environment.GetEnvironmentVariable("WSI_SEGMENT_BENCH") == "1";

    [Fact]
    public void Writing_a_400_megapixel_spool_and_its_pyramid_keeps_rss_bounded()
    {
        using var dir = new TempDir("rss");
        using var sampler = new RssSampler();
        var block = new byte[Block * Block];

        var sw = Stopwatch.StartNew();
        using var spool = LabelSpool.Create(dir.File("big.u8"), Side, Side);
        for (int y = 0; y < Side; y += Block)
            for (int x = 0; x < Side; x += Block)
            {
                int w = Math.Min(Block, Side - x), h = Math.Min(Block, Side - y);
                block.AsSpan(0, w * h).Fill((byte)((x / Block + y / Block) % 8)); // blocks as the accumulator delivers them
                spool.Write(x, y, w, h, block.AsSpan(0, w * h));
            }
        double spoolSeconds = sw.Elapsed.TotalSeconds;
        long afterSpool = sampler.Peak;

        sw.Restart();
        var outputs = Full ? MaskOutputs.All : MaskOutputs.Mask;
        var files = new PyramidWriter().Write(spool, dir.File("big"),
            new MaskOutputOptions { Mpp = 1.0, Classes = TestLabels.Classes, Outputs = outputs });
        double pyramidSeconds = sw.Elapsed.TotalSeconds;

        output.WriteLine($"baseline RSS {sampler.Baseline / 1e6:0} MB; spool {Side}×{Side}: {Side * (double)Side / 1e6 / spoolSeconds:0} MP/s, " +
                         $"peak RSS {afterSpool / 1e6:0} MB; pyramid ({outputs}) {pyramidSeconds:0.0}s = {Side * (double)Side / 1e6 / pyramidSeconds:0} MP/s, " +
                         $"peak RSS {sampler.Peak / 1e6:0} MB; mask.tif {new FileInfo(files.Mask!).Length / 1e6:0.0} MB");
        Assert.Equal(Side, OpenSlideProperties.Read(files.Mask!).Number("openslide.level[0].width"));
        Assert.True(sampler.Peak - sampler.Baseline < 400_000_000, $"RSS grew by {(sampler.Peak - sampler.Baseline) / 1e6:0} MB");
        // Growth, not the absolute peak: this process also holds what earlier tests left (libtorch, pools, heap).
    }

    /// <summary>Samples VmRSS of this process every 20 ms (the high-water mark would include earlier tests).</summary>
    private sealed class RssSampler : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Thread _thread;
        private long _peak;

        public RssSampler()
        {
            Baseline = Current();
            _peak = Baseline;
            _thread = new Thread(() =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    long now = Current();
                    if (now > Interlocked.Read(ref _peak)) Interlocked.Exchange(ref _peak, now);
                    Thread.Sleep(20);
                }
            }) { IsBackground = true };
            _thread.Start();
        }

        public long Baseline { get; }
        public long Peak => Math.Max(Interlocked.Read(ref _peak), Current());

        private static long Current()
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
            throw new InvalidOperationException("no VmRSS in /proc/self/status");
        }

        public void Dispose()
        {
            _stop.Cancel();
            _thread.Join();
        }
    }
}
