using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Weights;
using WsiSegment.Processor.Cli;

namespace WsiSegment.Processor.Commands;

/// <summary>`wsi-segment model info CKPT`: architecture, parameter count and the model card.</summary>
public static class ModelInfoCommand
{
    public static Command Create()
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "A checkpoint written by `model import` or training." };
        var cmd = new Command("info", "Show a checkpoint's architecture, parameter count and model card (JSON).") { checkpoint };
        cmd.SetAction((parse, ct) => CommandRunner.RunAsync(parse, "model info", ct, (_, _) =>
        {
            var path = parse.GetValue(checkpoint)!;
            if (!File.Exists(path)) throw new UserError($"{path}: not found");
            TorchRuntime.Initialise();
            using var model = Checkpoint.Load(path);
            var card = JsonNode.Parse(model.Card.ToJson())!;
            var info = new JsonObject
            {
                ["checkpoint"] = path,
                ["architecture"] = model.Card.Architecture,
                ["p"] = model.Card.P,
                ["q"] = model.Card.Q,
                ["classes"] = model.Card.ClassCount,
                ["parameters"] = model.ParameterCount,
                ["file_bytes"] = new FileInfo(path).Length,
                ["card"] = card,
            };
            Console.Out.WriteLine(info.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return Task.FromResult(CommandRunner.Ok);
        }));
        return cmd;
    }
}
