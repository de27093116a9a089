using System.Diagnostics;
using TorchSharp;
using WsiSegment.Model.Network;
using WsiSegment.Model.Runtime;
using static TorchSharp.torch;

namespace WsiSegment.Model.Training;

/// <summary>Training throughput measured on a synthetic random batch: full forward, class-weighted loss, backward, Adam step.</summary>
public sealed record TrainingThroughput(ModelArchitecture Architecture, int P, int Q, int Classes, int Batch, int Size, int Steps,
    double SecondsPerStep, double PatchesPerSecond, double MegapixelsPerSecond, long Parameters, string Device, int Threads);

public static class TrainingBenchmark
{
    public static TrainingThroughput Measure(ModelArchitecture arch, int classes = 8, int p = 2, int q = 8, int batch = 8, int size = 384,
        int warmup = 2, int steps = 5, string device = "auto", CancellationToken ct = default)
    {
        if (size % 8 != 0 || size < 16) throw new ArgumentException($"size {size} must be a multiple of 8 (at least 16)");
        if (batch < 1 || steps < 1 || warmup < 0) throw new ArgumentException("batch and steps must be at least 1, warm-up at least 0");
        TorchRuntime.Initialise();
        var dev = TorchRuntime.ResolveDevice(device);
        torch.manual_seed(1);
        using var network = NetworkFactory.Create(arch, classes, p, q);
        network.to(dev).train();
        using var optimizer = AdamOptimizer.For(network, new AdamOptions { LearningRate = 5e-4, WeightDecay = 5e-4 });
        int labelSize = size / arch.OutputStride();
        using var input = randn(batch, 3, size, size, device: dev);
        using var target = randint(0, classes, [batch, labelSize, labelSize], dtype: ScalarType.Int64, device: dev);
        using var weights = ones(classes, device: dev);
        var clock = new Stopwatch();
        for (int i = 0; i < warmup + steps; i++)
        {
            ct.ThrowIfCancellationRequested();
            if (i == warmup) clock.Start();
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            var loss = nn.functional.cross_entropy(network.call(input), target, weight: weights);
            loss.backward();
            optimizer.Step();
            _ = loss.item<float>(); // waits for the device
        }
        clock.Stop();
        double perStep = clock.Elapsed.TotalSeconds / steps;
        return new TrainingThroughput(arch, p, q, classes, batch, size, steps, perStep, batch / perStep,
            batch * (double)size * size / perStep / 1e6, NetworkFactory.CountParameters(network), dev.ToString(), torch.get_num_threads());
    }
}
