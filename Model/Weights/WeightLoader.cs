using TorchSharp;
using WsiSegment.Model.Network;
using static TorchSharp.torch;

namespace WsiSegment.Model.Weights;

/// <summary>
/// Copies named tensors into a network's state_dict, checking every name and shape first (nothing is copied when
/// anything is wrong). <c>num_batches_tracked</c> is optional on import: the authors' released checkpoints lack it.
/// </summary>
public static class WeightLoader
{
    private const string OptionalSuffix = "num_batches_tracked";

    /// <summary>
    /// Loads <paramref name="tensors"/> into <paramref name="network"/>. With a <paramref name="networkPrefix"/>
    /// (e.g. "encoder.") only the network's keys under it are loaded, matched against file keys without it —
    /// how an ESPNet-C checkpoint initialises ESPNet's encoder for stage-2 training.
    /// </summary>
    public static void Load(nn.Module network, IReadOnlyDictionary<string, SafetensorsTensor> tensors, string source,
        string networkPrefix = "", string? hint = null)
    {
        var state = network.state_dict()
            .Where(kv => kv.Key.StartsWith(networkPrefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[networkPrefix.Length..], kv => kv.Value, StringComparer.Ordinal);

        var missing = state.Keys.Where(k => !tensors.ContainsKey(k) && !k.EndsWith(OptionalSuffix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
        var unexpected = tensors.Keys.Where(k => !state.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var misshaped = new List<string>();
        foreach (var (name, target) in state.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!tensors.TryGetValue(name, out var t)) continue;
            if (!t.Shape.SequenceEqual(target.shape))
                misshaped.Add($"{name}: file [{string.Join(", ", t.Shape)}] vs network [{string.Join(", ", target.shape)}]");
            else if (IsFloating(target.dtype) != IsFloating(t.Dtype.ToScalarType()))
                misshaped.Add($"{name}: file {t.Dtype} vs network {target.dtype}");
        }
        if (missing.Count + unexpected.Count + misshaped.Count > 0)
            throw new WeightMismatchException(source, missing, unexpected, misshaped, hint);

        using var _ = no_grad();
        foreach (var (name, target) in state)
        {
            if (!tensors.TryGetValue(name, out var t))
            {
                target.zero_(); // absent num_batches_tracked: as a fresh PyTorch module would have it
                continue;
            }
            using var src = t.ToTensor();
            target.copy_(src); // converts F16/BF16 files to the network's dtype
        }
    }

    /// <summary>A network's state_dict as safetensors entries (CPU copies).</summary>
    public static List<SafetensorsTensor> Export(SegmentationNetwork network) =>
        network.state_dict().Select(kv => SafetensorsTensor.FromTensor(kv.Key, kv.Value)).ToList();

    private static bool IsFloating(ScalarType t) => t is ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16;
}
