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

    public override Tensor forward(Tensor input) => Continue(input, alreadyPooled: 0);

    /// <summary>
    /// The projection of an image that has already been pooled <paramref name="alreadyPooled"/> times (by another
    /// projection: the pools hold no parameters, so that is the same tensor this one would compute first). ESPNet-C
    /// pools its input once and twice; the twice-pooled one continues from the once-pooled one, which saves a
    /// full-resolution pool per forward (channels-last 3-channel pooling is slow).
    /// </summary>
    public Tensor Continue(Tensor pooled, int alreadyPooled)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(alreadyPooled);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(alreadyPooled, pool.Count);
        using var scope = NewDisposeScope();
        var x = alreadyPooled == pool.Count ? pooled.alias() : pooled;
        for (int i = alreadyPooled; i < pool.Count; i++) x = pool[i].call(x);
        return scope.MoveToOuter(x);
    }
}
