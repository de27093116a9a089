using WsiSegment.Model.Cards;
using WsiSegment.Model.Network;

namespace WsiSegment.Model;

/// <summary>A network with its weights loaded and the card that says what it is and how to feed it. Owns the network.</summary>
public sealed class LoadedModel : IDisposable
{
    public LoadedModel(SegmentationNetwork network, ModelCard card, string source)
    {
        ArgumentNullException.ThrowIfNull(network);
        Network = network;
        Card = card;
        Source = source;
        var spec = network.Spec;
        card.EnsureMatches(spec.Architecture, spec.Classes, spec.P, spec.Q, source);
    }

    public SegmentationNetwork Network { get; }
    public ModelCard Card { get; }
    /// <summary>Where it came from (a file path, or a description).</summary>
    public string Source { get; }
    public NetworkSpec Spec => Network.Spec;
    public ModelArchitecture Architecture => Network.Spec.Architecture;
    public long ParameterCount => Network.ParameterCount;

    public void Dispose() => Network.Dispose();
}
