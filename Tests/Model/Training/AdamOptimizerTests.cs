using TorchSharp;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Training;
using static TorchSharp.torch;

namespace WsiSegment.Tests.Model.Training;

/// <summary>Runs alone: TorchSharp's Adam, the reference here, passes temporary Scalars that a collection in a parallel test could free (see HeldScalars).</summary>
[Collection(WsiSegment.Tests.Tiling.MemoryCollection.Name)]
public class AdamOptimizerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("adam-").FullName;

    public AdamOptimizerTests() => TorchRuntime.Initialise();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static nn.Module<Tensor, Tensor> Net(int seed, int hidden = 8)
    {
        manual_seed(seed);
        return nn.Sequential(("a", nn.Linear(4, hidden)), ("act", nn.Tanh()), ("b", nn.Linear(hidden, 3)));
    }

    private static void Steps(nn.Module<Tensor, Tensor> net, Action zero, Action step, int count, int seed)
    {
        var g = new Generator(seed: (ulong)seed);
        for (int i = 0; i < count; i++)
        {
            using var scope = NewDisposeScope();
            var x = randn(16, 4, generator: g);
            var y = randint(0, 3, [16], generator: g);
            zero();
            nn.functional.cross_entropy(net.call(x), y).backward();
            step();
        }
    }

    private static float MaxDifference(nn.Module<Tensor, Tensor> a, nn.Module<Tensor, Tensor> b)
    {
        using var scope = NewDisposeScope();
        return a.parameters().Zip(b.parameters()).Max(p => (p.First - p.Second).abs().max().item<float>());
    }

    [Fact]
    public void Steps_equal_torchsharps_adam_with_weight_decay()
    {
        using var ours = Net(5);
        using var theirs = Net(5);
        using var adam = AdamOptimizer.For(ours, new AdamOptions { LearningRate = 1e-2, WeightDecay = 1e-3 });
        using var reference = optim.Adam(theirs.parameters(), lr: 1e-2, weight_decay: 1e-3);
        Assert.Equal(0f, MaxDifference(ours, theirs));
        Steps(ours, adam.ZeroGrad, adam.Step, 25, seed: 9);
        Steps(theirs, () => reference.zero_grad(), () => reference.step(), 25, seed: 9);
        Assert.Equal(25, adam.Steps);
        float diff = MaxDifference(ours, theirs);
        Assert.True(diff < 1e-6f, $"parameters differ by {diff} after 25 steps");
        using var start = Net(5);
        Assert.True(MaxDifference(ours, start) > 1e-2f, "the steps must have moved the weights");
    }

    [Fact]
    public void Saved_state_resumes_exactly_where_it_stopped()
    {
        using var straight = Net(7);
        using var adamStraight = AdamOptimizer.For(straight, new AdamOptions { LearningRate = 5e-3 });
        Steps(straight, adamStraight.ZeroGrad, adamStraight.Step, 6, seed: 1);
        Steps(straight, adamStraight.ZeroGrad, adamStraight.Step, 6, seed: 2);

        using var first = Net(7);
        var path = Path.Combine(_dir, "last.optim.safetensors");
        using (var adamFirst = AdamOptimizer.For(first, new AdamOptions { LearningRate = 5e-3 }))
        {
            Steps(first, adamFirst.ZeroGrad, adamFirst.Step, 6, seed: 1);
            adamFirst.Save(path);
        }
        using var adamResumed = AdamOptimizer.For(first, new AdamOptions { LearningRate = 5e-3 });
        adamResumed.Load(path);
        Assert.Equal(6, adamResumed.Steps);
        Steps(first, adamResumed.ZeroGrad, adamResumed.Step, 6, seed: 2);
        Assert.Equal(0f, MaxDifference(straight, first));
    }

    [Fact]
    public void State_of_another_network_or_a_foreign_file_fails_naming_the_file()
    {
        using var small = Net(1, hidden: 8);
        using var large = Net(1, hidden: 16);
        var path = Path.Combine(_dir, "small.optim.safetensors");
        using (var adam = AdamOptimizer.For(small, new AdamOptions()))
        {
            Steps(small, adam.ZeroGrad, adam.Step, 1, seed: 1);
            adam.Save(path);
        }
        using var other = AdamOptimizer.For(large, new AdamOptions());
        var e = Assert.Throws<InvalidDataException>(() => other.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("'exp_avg.a.weight' is [8, 4], the network needs [16, 4]", e.Message);

        var weightsOnly = Path.Combine(_dir, "weights.safetensors");
        WsiSegment.Model.Weights.SafetensorsFile.Write(weightsOnly,
            small.state_dict().Select(kv => WsiSegment.Model.Weights.SafetensorsTensor.FromTensor(kv.Key, kv.Value)));
        e = Assert.Throws<InvalidDataException>(() => other.Load(weightsOnly));
        Assert.Contains("not an Adam state", e.Message);
    }
}
