using WsiSegment.Model.Cards;
using WsiSegment.Model.Network;
using static TorchSharp.torch;

namespace WsiSegment.Model.Weights;

/// <summary>
/// Our checkpoint: one safetensors file holding the network's state_dict under the PyTorch reference names, with
/// <c>__metadata__</c> = { "format": "wsi-segment-checkpoint", "format_version": "1", "model_card": card JSON }.
/// Any safetensors reader opens it; PyTorch users load it with <c>safetensors.torch.load_file</c> unchanged.
/// (Optimizer state for resuming training will go in a side file, CKPT.optim.safetensors.)
/// </summary>
public static class Checkpoint
{
    public const string FormatName = "wsi-segment-checkpoint";
    public const string FormatVersion = "1";
    public const string CardKey = "model_card";

    /// <summary>Saves the network with its card (the card's architecture and hash are filled in from the network). Returns the saved card.</summary>
    public static ModelCard Save(string path, SegmentationNetwork network, ModelCard card)
    {
        var tensors = WeightLoader.Export(network);
        var spec = network.Spec;
        var saved = card with { ContentHash = ContentHash.Of(tensors), DecoderEspBranches = spec.DecoderBranches };
        saved.Validate(path).EnsureMatches(spec.Architecture, spec.Classes, spec.P, spec.Q, path);
        SafetensorsFile.Write(path, tensors, new Dictionary<string, string>
        {
            ["format"] = FormatName,
            ["format_version"] = FormatVersion,
            [CardKey] = saved.ToJson(),
        });
        return saved;
    }

    /// <summary>Loads a checkpoint: reads the card, builds its network, loads and checks every tensor and the content hash.</summary>
    public static LoadedModel Load(string path)
    {
        var content = SafetensorsFile.Read(path);
        if (!content.Metadata.TryGetValue(CardKey, out var cardJson))
            throw new ModelCardException(path,
                "a safetensors file without a model card, i.e. plain weights: turn it into a checkpoint with `wsi-segment model import`");
        var card = ModelCard.FromJson(cardJson, path);
        var hash = ContentHash.Of(content.Tensors);
        if (card.ContentHash is not null && card.ContentHash != hash)
            throw new ModelCardException(path, $"content hash mismatch: the card says {card.ContentHash}, the tensors hash to {hash} (file altered?)");
        var network = NetworkFactory.Create(card.Arch, card.ClassCount, card.P, card.Q);
        try
        {
            WeightLoader.Load(network, content.ByName, path,
                hint: $"card says {card.Architecture} p={card.P} q={card.Q} with {card.ClassCount} classes");
            network.eval();
            return new LoadedModel(network, card with { ContentHash = hash }, path);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Builds a network from plain PyTorch-named weights (e.g. converted from the authors' .pth). For ESPNet, weights
    /// of an ESPNet-C (no "encoder." keys) initialise just the encoder — stage-2 training starts that way.
    /// </summary>
    public static LoadedModel Import(string weightsPath, ModelArchitecture arch, int classes, int p, int q, ModelCard? card = null)
    {
        var content = SafetensorsFile.Read(weightsPath);
        var network = NetworkFactory.Create(arch, classes, p, q);
        try
        {
            bool encoderOnly = arch == ModelArchitecture.EspNet && !content.Tensors.Any(t => t.Name.StartsWith("encoder.", StringComparison.Ordinal));
            WeightLoader.Load(network, content.ByName, weightsPath, encoderOnly ? "encoder." : "",
                hint: $"expected {arch.Name()} p={p} q={q} with {classes} classes" + (encoderOnly ? ", loading an ESPNet-C into the encoder" : ""));
            network.eval();
            var baseCard = card ?? ModelCard.Default(arch, classes, p, q);
            var final = baseCard with { Architecture = arch.Name(), P = p, Q = q, ContentHash = null, DecoderEspBranches = NetworkFactory.DecoderBranches(arch, classes) };
            if (final.ClassCount != classes)
                throw new ModelCardException(weightsPath, $"the card lists {final.ClassCount} classes, --classes says {classes}");
            return new LoadedModel(network, final.Validate(weightsPath), weightsPath);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }
}
