using System.CommandLine;
using Microsoft.Extensions.Logging;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Weights;
using WsiSegment.Processor.Cli;

namespace WsiSegment.Processor.Commands;

/// <summary>`wsi-segment model export CKPT -o WEIGHTS.safetensors`: plain PyTorch-named weights for PyTorch users.</summary>
public static class ModelExportCommand
{
    public static Command Create()
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "The checkpoint to export." };
        var output = new Option<string>("--output", "-o") { Description = "Safetensors file to write.", Required = true };
        var cmd = new Command("export", "Write a checkpoint's weights as plain safetensors with the PyTorch reference's names " +
            "(load with safetensors.torch.load_file, then model.load_state_dict).") { checkpoint, output };
        cmd.SetAction((parse, ct) => CommandRunner.RunAsync(parse, "model export", ct, (logs, _) =>
        {
            var path = parse.GetValue(checkpoint)!;
            if (!File.Exists(path)) throw new UserError($"{path}: not found");
            TorchRuntime.Initialise();
            using var model = Checkpoint.Load(path);
            var tensors = WeightLoader.Export(model.Network);
            var metadata = new Dictionary<string, string>
            {
                ["format"] = "pt",
                ["architecture"] = model.Card.Architecture,
                ["p"] = model.Card.P.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["q"] = model.Card.Q.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["classes"] = model.Card.ClassCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            // Below 5 classes the decoder's last ESP block has one branch per class (no d16, …): say so for whoever
            // rebuilds the network from these weights.
            if (model.Card.Arch == WsiSegment.Model.Network.ModelArchitecture.EspNet)
                metadata["decoder_esp_branches"] = (model.Card.DecoderEspBranches ?? 5).ToString(System.Globalization.CultureInfo.InvariantCulture);
            // How to feed the weights (channel order, mean, std, scale; stain transform): whoever runs them elsewhere
            // must prepare input as training did.
            metadata["input_normalisation"] = System.Text.Json.JsonSerializer.Serialize(model.Card.Normalisation, WsiSegment.Model.Cards.ModelCard.JsonOptions);
            if (model.Card.StainNormalisation is { } stain)
                metadata["stain_normalisation"] = System.Text.Json.JsonSerializer.Serialize(stain, WsiSegment.Model.Cards.ModelCard.JsonOptions);
            SafetensorsFile.Write(parse.GetValue(output)!, tensors, metadata);
            logs.CreateLogger("wsi-segment.model").LogInformation("Exported {Count} tensors of {Checkpoint} to {Output}",
                tensors.Count, path, parse.GetValue(output));
            return Task.FromResult(CommandRunner.Ok);
        }));
        return cmd;
    }
}
