using System.CommandLine;
using Microsoft.Extensions.Logging;
using WsiSegment.Model.Cards;
using WsiSegment.Model.Network;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Weights;
using WsiSegment.Processor.Cli;

namespace WsiSegment.Processor.Commands;

/// <summary>`wsi-segment model import WEIGHTS.safetensors --arch espnet --classes N -o CKPT`: PyTorch-named weights → our checkpoint.</summary>
public static class ModelImportCommand
{
    public static Command Create()
    {
        var weights = new Argument<string>("weights") { Description = "A safetensors file with the PyTorch reference's parameter names." };
        var arch = new Option<string>("--arch") { Description = "espnet or espnet-c.", Required = true };
        var p = new Option<int>("--p") { Description = "Depth multiplier α2 (ESP blocks at level 2).", DefaultValueFactory = _ => 2 };
        var q = new Option<int>("--q") { Description = "Depth multiplier α3 (ESP blocks at level 3).", DefaultValueFactory = _ => 8 };
        var classes = new Option<int>("--classes") { Description = "Number of classes.", Required = true };
        var card = new Option<string?>("--card") { Description = "Model card JSON (class names, colours, normalisation, …); default: the 8 breast-tissue classes." };
        var normalisation = new Option<string?>("--normalisation")
        {
            Description = "Input convention the weights were trained with, recorded in the card (segment, predict, eval and train --init apply it): "
                + "cityscapes (default; the authors' preprocessing: BGR, their Cityscapes mean/std, divided by 255 after normalising) or "
                + "unit-rgb (RGB, (v - 127.5) / 127.5). Without it a --card's normalisation is kept.",
        };
        var output = new Option<string>("--output", "-o") { Description = "Checkpoint to write.", Required = true };
        var cmd = new Command("import", "Turn PyTorch-named safetensors weights into a checkpoint with a model card. " +
            "An ESPNet-C file imported as espnet fills just the encoder.") { weights, arch, p, q, classes, card, normalisation, output };
        cmd.SetAction((parse, ct) => CommandRunner.RunAsync(parse, "model import", ct, (logs, _) =>
        {
            var log = logs.CreateLogger("wsi-segment.model");
            ModelArchitecture architecture;
            try
            {
                architecture = ModelArchitectures.Parse(parse.GetValue(arch)!);
            }
            catch (ArgumentException e)
            {
                throw new UserError(e.Message, e);
            }
            var source = parse.GetValue(weights)!;
            if (!File.Exists(source)) throw new UserError($"{source}: not found");
            var cardPath = parse.GetValue(card);
            if (cardPath is not null && !File.Exists(cardPath)) throw new UserError($"{cardPath}: not found");
            TorchRuntime.Initialise();
            var convention = ParseNormalisation(parse.GetValue(normalisation));
            var modelCard = cardPath is null ? ModelCard.Default(architecture, parse.GetValue(classes), parse.GetValue(p), parse.GetValue(q)) : ModelCard.Load(cardPath);
            // The authors' weights are what `model import` is for: their preprocessing unless told otherwise.
            if (convention is not null || cardPath is null)
                modelCard = modelCard with { Normalisation = convention ?? InputNormalisation.AuthorsCityscapes };
            try
            {
                using var model = Checkpoint.Import(source, architecture, parse.GetValue(classes), parse.GetValue(p), parse.GetValue(q), modelCard);
                var saved = Checkpoint.Save(parse.GetValue(output)!, model.Network, model.Card);
                log.LogInformation("Imported {Weights} as {Arch} p={P} q={Q} with {Classes} classes ({Parameters} parameters) into {Checkpoint}, {Hash}; input {Convention}",
                    source, saved.Architecture, saved.P, saved.Q, saved.ClassCount, model.ParameterCount, parse.GetValue(output), saved.ContentHash,
                    WsiSegment.Model.Training.InputConvention.Describe(saved.Normalisation));
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new UserError(e.Message, e);
            }
            return Task.FromResult(CommandRunner.Ok);
        }));
        return cmd;
    }

    private static InputNormalisation? ParseNormalisation(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null => null,
        "cityscapes" or "authors" => InputNormalisation.AuthorsCityscapes,
        "unit-rgb" => new InputNormalisation(),
        _ => throw new UserError($"--normalisation '{value}': use cityscapes or unit-rgb"),
    };
}
