using TorchSharp.Modules;
using WsiSegment.Model.Runtime;
using static TorchSharp.torch;

namespace WsiSegment.Model.Network;

/// <summary>
/// Runs a BatchNorm2d. In training, TorchSharp's own forward counts the batch with <c>num_batches_tracked.add_(1)</c>,
/// a temporary Scalar a concurrent GC may free mid-call (see <see cref="HeldScalars"/>); this does the same
/// update with a rooted Scalar and then the same functional batch norm. Eval mode has no Scalar and uses the module.
/// </summary>
internal static class BatchNormForward
{
    public static Tensor Apply(BatchNorm2d bn, Tensor input)
    {
        if (!bn.training) return bn.call(input);
        double factor = bn.momentum ?? 0.1;
        if (bn.track_running_stats && bn.num_batches_tracked is { } tracked)
        {
            using (no_grad()) tracked.add_(HeldScalars.One, HeldScalars.One);
            // momentum null means a cumulative average, as in PyTorch.
            if (bn.momentum is null) factor = 1.0 / tracked.item<long>();
        }
        bool useRunning = bn.track_running_stats;
        return nn.functional.batch_norm(input, useRunning ? bn.running_mean : null, useRunning ? bn.running_var : null,
            bn.weight, bn.bias, training: true, momentum: factor, eps: bn.eps);
    }
}
