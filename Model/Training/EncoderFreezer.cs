using WsiSegment.Model.Network;
using static TorchSharp.torch;

namespace WsiSegment.Model.Training;

/// <summary>
/// Holds the pretrained encoder still for the first epochs of fine-tuning (<c>--freeze-encoder-epochs</c>): its
/// loaded parameters get no gradient, so Adam leaves them (and their weight decay) alone while the re-initialised,
/// class-dependent layers catch up. BatchNorm running statistics still adapt to the new images.
/// For ESPNet the encoder is everything under <c>encoder.</c>; for ESPNet-C the whole network. Only tensors that were
/// loaded from a checkpoint are frozen: a re-initialised classifier always trains.
/// </summary>
public sealed class EncoderFreezer
{
    private readonly List<TorchSharp.Modules.Parameter> _parameters;

    public EncoderFreezer(nn.Module network, ModelArchitecture arch, IReadOnlySet<string> pretrained)
    {
        _parameters = network.named_parameters()
            .Where(p => pretrained.Contains(p.name) && (arch == ModelArchitecture.EspNetC || p.name.StartsWith("encoder.", StringComparison.Ordinal)))
            .Select(p => p.parameter).ToList();
    }

    /// <summary>Parameters that freezing holds still.</summary>
    public int Count => _parameters.Count;

    public bool Frozen { get; private set; }

    public void Set(bool frozen)
    {
        foreach (var p in _parameters)
        {
            p.requires_grad = !frozen;
            // A gradient left from before would keep Adam stepping it.
            if (frozen && p.grad is { } g) { using (g) p.grad = null; }
        }
        Frozen = frozen;
    }
}
