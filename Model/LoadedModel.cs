using WsiSegment.Model.Cards;
using WsiSegment.Model.Network;
using static TorchSharp.torch;

namespace WsiSegment.Model;

/// <summary>A network with its weights loaded and the card that says what it is and how to feed it. Owns the network.</summary>
public sealed class LoadedModel : IDisposable
{
    public LoadedModel(nn.Module<Tensor, Tensor> network, ModelCard card, string source)
    {
        Network = network;
        Card = card;
        Source = source;
        var spec = NetworkFactory.Describe(network);
        card.EnsureMatches(spec.Architecture, spec.Classes, spec.P, spec.Q, source);
    }

    public nn.Module<Tensor, Tensor> Network { get; }
    public ModelCard Card { get; }
    /// <summary>Where it came from (a file path, or a description).</summary>
    public string Source { get; }
    public ModelArchitecture Architecture => NetworkFactory.ArchitectureOf(Network);
    public long ParameterCount => NetworkFactory.CountParameters(Network);

    public void Dispose() => Network.Dispose();
}
