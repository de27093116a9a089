using TorchSharp;
using WsiSegment.Model.Network;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Training;
using static TorchSharp.torch;

namespace WsiSegment.Tests.Model.Network;

public class EspNetTrainingTests
{
    public EspNetTrainingTests() => TorchRuntime.Initialise();

    [Fact]
    public void A_few_hundred_steps_on_one_tiny_batch_drive_the_loss_down()
    {
        manual_seed(11);
        using var net = new EspNet(5, p: 1, q: 1);
        net.train();
        using var optimiser = AdamOptimizer.For(net, new AdamOptions { LearningRate = 5e-3 });
        using var x = randn(2, 3, 32, 32);
        // Labels with spatial structure (quadrants + a stripe), not noise: learnable by a small network.
        using var yy = arange(32).reshape(1, 32, 1).expand(2, 32, 32);
        using var xx = arange(32).reshape(1, 1, 32).expand(2, 32, 32);
        using var y = ((yy >= 16).to(int64) * 2 + (xx >= 16).to(int64) + ((xx - yy).abs() < 3).to(int64)).clamp_max(4);
        float first = 0, last = 0;
        for (int step = 0; step < 200; step++)
        {
            using var scope = NewDisposeScope();
            optimiser.ZeroGrad();
            var loss = nn.functional.cross_entropy(net.call(x), y);
            loss.backward();
            optimiser.Step();
            if (step == 0) first = loss.item<float>();
            last = loss.item<float>();
        }
        Assert.True(last < 0.3 * first, $"loss went from {first} to {last}");
    }
}
