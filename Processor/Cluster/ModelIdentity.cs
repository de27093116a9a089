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
}
