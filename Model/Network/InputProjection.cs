using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace WsiSegment.Model.Network;

/// <summary>
/// Input reinforcement (reference: <c>InputProjectionA</c>): the image average-pooled 3×3, stride 2, padding 1,
/// <c>samplingTimes</c> times. The padding counts in the divisor (border windows divide by 9), as in PyTorch's default.
/// </summary>
public sealed class InputProjection : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<AvgPool2d> pool;

    public InputProjection(int samplingTimes) : base("InputProjectionA")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samplingTimes, 1);
        pool = new ModuleList<AvgPool2d>();
        for (int i = 0; i < samplingTimes; i++)
            pool.Add(nn.AvgPool2d(3, stride: 2, padding: 1, ceil_mode: false, count_include_pad: true));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input;
        foreach (var p in pool) x = p.call(x);
        return scope.MoveToOuter(x);
    }
}
