using TorchSharp;
using WsiSegment.Model.Runtime;
using static TorchSharp.torch;

namespace WsiSegment.Tests.Model;

public class TorchRuntimeTests
{
    [Fact]
    public void TorchSharp_loads_and_runs_a_convolution_in_the_test_process()
    {
        TorchRuntime.Initialise();
        using var scope = NewDisposeScope();
        // A 3x3 box filter over a ramp: every interior output is the mean of its window times 9.
        var input = arange(0, 25, dtype: float32).reshape(1, 1, 5, 5);
        var weight = ones(1, 1, 3, 3);
        var output = nn.functional.conv2d(input, weight);
        Assert.Equal(new long[] { 1, 1, 3, 3 }, output.shape);
        Assert.Equal(9 * 6f, output[0, 0, 0, 0].item<float>());
        Assert.Equal(9 * 18f, output[0, 0, 2, 2].item<float>());
    }

    [Fact]
    public void Cpu_device_resolves_and_cuda_request_fails_clearly_without_a_gpu()
    {
        Assert.Equal(DeviceType.CPU, TorchRuntime.ResolveDevice("cpu").type);
        if (!cuda.is_available())
        {
            Assert.Equal(DeviceType.CPU, TorchRuntime.ResolveDevice("auto").type);
            var e = Assert.Throws<ArgumentException>(() => TorchRuntime.ResolveDevice("cuda"));
            Assert.Contains("no CUDA device", e.Message);
        }
        Assert.Throws<ArgumentException>(() => TorchRuntime.ResolveDevice("tpu"));
    }
}
