using WsiSegment.Model.Weights;

namespace WsiSegment.Processor.Cluster;

/// <summary>The content hash a checkpoint's reports will carry (model.hash), computed without building the network.</summary>
public static class ModelIdentity
{
    public static string HashOf(string checkpoint)
    {
        if (!File.Exists(checkpoint)) throw new Cli.UserError($"{checkpoint}: model file not found");
        return ContentHash.Of(SafetensorsFile.Read(checkpoint).Tensors);
    }

    /// <summary>Class names in label order from the checkpoint's card (header only; no tensors read).</summary>
    public static IReadOnlyList<string> ClassNamesOf(string checkpoint)
    {
        var header = SafetensorsFile.ReadHeader(checkpoint);
        if (!header.Metadata.TryGetValue(Checkpoint.CardKey, out var json))
            throw new Cli.UserError($"{checkpoint}: no model card (plain weights?); import it with `wsi-segment model import`");
        return WsiSegment.Model.Cards.ModelCard.FromJson(json, checkpoint).Classes.Select(c => c.Name).ToList();
    }
}
