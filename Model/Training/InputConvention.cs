using Microsoft.Extensions.Logging;
using WsiSegment.Model.Cards;
using WsiSegment.Model.Weights;

namespace WsiSegment.Model.Training;

/// <summary>
/// Which input convention (the card's <see cref="InputNormalisation"/>: channel order, mean, std, scale) a training
/// stage feeds its network. Weights that start from a checkpoint keep the convention they were trained with — the
/// authors' Cityscapes ESPNet saw BGR bytes normalised by Cityscapes' mean/std and divided by 255, and its first
/// convolution's filters only mean something for that input. The saved card records the convention, and
/// <c>segment</c>, <c>predict</c> and <c>eval</c> apply it from there (<see cref="InputNormalisation.Affine"/>, the one
/// definition that training's <see cref="PatchAugmenter"/> and the inference engine both use).
/// </summary>
public static class InputConvention
{
    /// <summary>
    /// The convention for a stage: a resumed stage's own last checkpoint; else the card of --init; else the card of
    /// the ESPNet-C the full stage starts from; else (from scratch, or starting weights without a card) RGB with the
    /// training images' mean and std. Two starting checkpoints with different conventions are refused.
    /// </summary>
    public static InputNormalisation For(string? resumedCheckpoint, string? initCheckpoint, string? encoderCheckpoint, PatchDataset dataset, ILogger log)
    {
        if (resumedCheckpoint is not null)
            return CardOf(resumedCheckpoint)?.Normalisation ?? FromStatistics(dataset.Mean, dataset.Std);
        var init = initCheckpoint is null ? null : CardOf(initCheckpoint);
        var encoder = encoderCheckpoint is null ? null : CardOf(encoderCheckpoint);
        if (init is not null && encoder is not null && !SameConvention(init.Normalisation, encoder.Normalisation))
            throw new ModelCardException(encoderCheckpoint!,
                $"its input convention ({Describe(encoder.Normalisation)}) differs from that of --init {initCheckpoint} ({Describe(init.Normalisation)}): "
                + "the network can only keep one");
        if ((init ?? encoder) is { } card)
        {
            log.LogInformation("Input convention from {Checkpoint}, which its weights were trained with: {Convention}",
                init is not null ? initCheckpoint : encoderCheckpoint, Describe(card.Normalisation));
            return card.Normalisation;
        }
        var own = FromStatistics(dataset.Mean, dataset.Std);
        if (initCheckpoint is not null)
            log.LogWarning("{Checkpoint} has no model card, so the input convention its weights were trained with is unknown; training with the "
                + "dataset's {Convention} (turn plain weights into a checkpoint with `wsi-segment model import` to record it)", initCheckpoint, Describe(own));
        return own;
    }

    /// <summary>RGB, per-channel mean and std of the training images (given in 0..1 units), in the card's 0..255 units.</summary>
    public static InputNormalisation FromStatistics(IReadOnlyList<float> mean, IReadOnlyList<float> std)
    {
        if (mean.Count != 3 || std.Count != 3) throw new ArgumentException("mean and std need 3 channels");
        return new InputNormalisation
        {
            ChannelOrder = ChannelOrder.RGB,
            // Rounded as the card stores them, so training and inference use the very same coefficients.
            Mean = mean.Select(m => Math.Round(m * 255.0, 4)).ToArray(),
            Std = std.Select(s => Math.Round(s * 255.0, 4)).ToArray(),
            Scale = 1.0,
        };
    }

    public static bool SameConvention(InputNormalisation a, InputNormalisation b) =>
        a.ChannelOrder == b.ChannelOrder && a.Scale == b.Scale && a.Mean.SequenceEqual(b.Mean) && a.Std.SequenceEqual(b.Std);

    public static string Describe(InputNormalisation n) => System.FormattableString.Invariant(
        $"{n.ChannelOrder}, mean [{string.Join(", ", n.Mean.Select(m => m.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)))}], std [{string.Join(", ", n.Std.Select(s => s.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)))}], scale {n.Scale:G4}");

    private static ModelCard? CardOf(string checkpoint)
    {
        if (!File.Exists(checkpoint)) throw new FileNotFoundException($"{checkpoint}: no such checkpoint", checkpoint);
        var header = SafetensorsFile.ReadHeader(checkpoint);
        return header.Metadata.TryGetValue(Checkpoint.CardKey, out var json) ? ModelCard.FromJson(json, checkpoint) : null;
    }
}
