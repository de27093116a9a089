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
        var output = new Option<string>("--output", "-o") { Description = "Checkpoint to write.", Required = true };
        var cmd = new Command("import", "Turn PyTorch-named safetensors weights into a checkpoint with a model card. " +
            "An ESPNet-C file imported as espnet fills just the encoder.") { weights, arch, p, q, classes, card, output };
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
            var modelCard = cardPath is null ? null : ModelCard.Load(cardPath);
            try
            {
                using var model = Checkpoint.Import(source, architecture, parse.GetValue(classes), parse.GetValue(p), parse.GetValue(q), modelCard);
                var saved = Checkpoint.Save(parse.GetValue(output)!, model.Network, model.Card);
                log.LogInformation("Imported {Weights} as {Arch} p={P} q={Q} with {Classes} classes ({Parameters} parameters) into {Checkpoint}, {Hash}",
                    source, saved.Architecture, saved.P, saved.Q, saved.ClassCount, model.ParameterCount, parse.GetValue(output), saved.ContentHash);
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new UserError(e.Message, e);
            }
            return Task.FromResult(CommandRunner.Ok);
        }));
        return cmd;
    }
}
