using Microsoft.Extensions.Logging;
using WsiSegment.Model.Cards;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Stain;
using WsiSegment.Processor.Cli;
using WsiSegment.Tiling.Patches;

namespace WsiSegment.Processor.Training;

/// <summary>`train --stain-normalise METHOD --stain-reference IMAGE`: fits the normalisation once, for the card.</summary>
public static class StainFitting
{
    public static StainNormalisation? FromOptions(string? method, string? reference, ILogger log)
    {
        if (method is null && reference is null) return null;
        if (method is null) throw new UserError("--stain-reference needs --stain-normalise macenko|reinhard");
        if (reference is null) throw new UserError("--stain-normalise needs --stain-reference IMAGE");
        string m = method.Trim().ToLowerInvariant() switch
        {
            "macenko" => StainNormalisation.Macenko,
            "reinhard" => StainNormalisation.Reinhard,
            _ => throw new UserError($"--stain-normalise '{method}': use macenko or reinhard"),
        };
        if (!File.Exists(reference)) throw new UserError($"{reference}: stain reference image not found");
        PatchPixels image;
        try
        {
            image = PatchImageFile.Read(reference, 3);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NetVips.VipsException or ArgumentException)
        {
            throw new UserError($"{reference}: cannot read the stain reference: {e.Message}", e);
        }
        TorchRuntime.Initialise();
        try
        {
            var fitted = StainTransform.Fit(m, image.Pixels, image.Width, image.Height, Path.GetFileName(reference));
            log.LogInformation("Stain normalisation {Method} fitted on {Reference}: {Card}", m, reference,
                System.Text.Json.JsonSerializer.Serialize(fitted, ModelCard.JsonOptions).ReplaceLineEndings(" "));
            return fitted;
        }
        catch (ArgumentException e)
        {
            throw new UserError(e.Message, e);
        }
    }
}
