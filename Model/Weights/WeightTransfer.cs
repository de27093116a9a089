using TorchSharp;
using static TorchSharp.torch;

namespace WsiSegment.Model.Weights;

/// <summary>What a fine-tuning start took from its checkpoint.</summary>
/// <param name="Loaded">Network tensors copied from the file (same name and shape).</param>
/// <param name="Reinitialised">Network tensors left at their fresh initialisation, each "name: why" (class-dependent layers, …).</param>
/// <param name="Unused">File tensors the network has no place for.</param>
public sealed record TransferReport(IReadOnlyList<string> Loaded, IReadOnlyList<string> Reinitialised, IReadOnlyList<string> Unused)
{
    /// <summary>The loaded tensors' modules, condensed for a log line ("encoder.level1.conv", …).</summary>
    public IReadOnlyList<string> LoadedModules => Loaded.Select(n => n.Contains('.') ? n[..n.LastIndexOf('.')] : n).Distinct().ToList();
}

/// <summary>
/// Starts a network from another checkpoint that need not have its class count (or architecture): every tensor
/// whose name and shape match is copied, the rest keep their fresh (PyTorch default) initialisation. An ESPNet-C
/// file fills an ESPNet's encoder, an ESPNet file an ESPNet-C (its <c>encoder.</c> part).
/// </summary>
public static class WeightTransfer
{
    private const string EncoderPrefix = "encoder.";

    public static TransferReport Apply(nn.Module network, IReadOnlyDictionary<string, SafetensorsTensor> tensors)
    {
        var state = network.state_dict();
        bool networkHasEncoder = state.Keys.Any(k => k.StartsWith(EncoderPrefix, StringComparison.Ordinal));
        bool fileHasEncoder = tensors.Keys.Any(k => k.StartsWith(EncoderPrefix, StringComparison.Ordinal));
        // The file name a network key is looked up under.
        string FileKey(string key) => (networkHasEncoder, fileHasEncoder) switch
        {
            (true, false) => key.StartsWith(EncoderPrefix, StringComparison.Ordinal) ? key[EncoderPrefix.Length..] : "\0" + key,
            (false, true) => EncoderPrefix + key,
            _ => key,
        };
        var loaded = new List<string>();
        var fresh = new List<string>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        using var _ = no_grad();
        foreach (var (name, target) in state.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            // BatchNorm's step counter is not a weight (and is a scalar that always "fits"): leave it out.
            if (name.EndsWith("num_batches_tracked", StringComparison.Ordinal)) continue;
            string key = FileKey(name);
            if (!tensors.TryGetValue(key, out var t))
            {
                fresh.Add($"{name}: not in the file");
                continue;
            }
            used.Add(key);
            if (!t.Shape.SequenceEqual(target.shape))
            {
                fresh.Add($"{name}: file [{string.Join(", ", t.Shape)}] vs network [{string.Join(", ", target.shape)}]");
                continue;
            }
            using var src = t.ToTensor();
            target.copy_(src);
            loaded.Add(name);
        }
        var unused = tensors.Keys.Where(k => !used.Contains(k) && !k.EndsWith("num_batches_tracked", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        return new TransferReport(loaded, fresh, unused);
    }
}
