using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using WsiSegment.Model.Network;
using WsiSegment.Model.Training;
using WsiSegment.Processor.Cli;

namespace WsiSegment.Processor.Commands;

/// <summary>`wsi-segment bench train`: training throughput on this machine.</summary>
public static class BenchTrainCommand
{
    /// <summary>`bench train`: patches/s of training steps (forward, loss, backward, Adam) on a random batch.</summary>
    public static Command Create()
    {
        var arch = new Option<string>("--arch") { Description = "espnet or espnet-c.", DefaultValueFactory = _ => "espnet" };
        var size = new Option<int>("--size") { Description = "Patch edge in pixels (multiple of 8).", DefaultValueFactory = _ => 384 };
        var batch = new Option<int>("--batch", "-b") { Description = "Patches per step.", DefaultValueFactory = _ => 8 };
        var classes = new Option<int>("--classes") { Description = "Classes.", DefaultValueFactory = _ => 8 };
        var p = new Option<int>("--p") { Description = "Depth multiplier p.", DefaultValueFactory = _ => 2 };
        var q = new Option<int>("--q") { Description = "Depth multiplier q.", DefaultValueFactory = _ => 8 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed steps first.", DefaultValueFactory = _ => 2 };
        var steps = new Option<int>("--steps") { Description = "Timed steps.", DefaultValueFactory = _ => 5 };
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N.", DefaultValueFactory = _ => "auto" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var cmd = new Command("train", "Training throughput (patches/s) on a synthetic random batch.") { arch, size, batch, classes, p, q, warmup, steps, device, json };
        cmd.SetAction((parse, ct) => CommandRunner.RunAsync(parse, "bench train", ct, (logs, ct) =>
        {
            var log = logs.CreateLogger("wsi-segment.bench");
            ModelArchitecture a;
            try { a = ModelArchitectures.Parse(parse.GetValue(arch)!); }
            catch (ArgumentException e) { throw new UserError(e.Message, e); }
            log.LogInformation("Timing {Steps} training steps of {Batch}x{Size}² after {Warmup} warm-up steps", parse.GetValue(steps), parse.GetValue(batch), parse.GetValue(size), parse.GetValue(warmup));
            TrainingThroughput r;
            try
            {
                r = TrainingBenchmark.Measure(a, parse.GetValue(classes), parse.GetValue(p), parse.GetValue(q), parse.GetValue(batch),
                    parse.GetValue(size), parse.GetValue(warmup), parse.GetValue(steps), parse.GetValue(device)!, ct);
            }
            catch (ArgumentException e) { throw new UserError(e.Message, e); }
            if (parse.GetValue(json))
                Console.Out.WriteLine(JsonSerializer.Serialize(r, JsonOutput.Options));
            else
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"train {r.Architecture.Name()} p={r.P} q={r.Q} ({r.Parameters:N0} parameters), batch {r.Batch}x{r.Size}x{r.Size} on {r.Device} ({r.Threads} threads): " +
                    $"{r.PatchesPerSecond:0.00} patches/s, {r.MegapixelsPerSecond:0.00} MP/s, {r.SecondsPerStep:0.000} s/step"));
            return Task.FromResult(CommandRunner.Ok);
        }));
        return cmd;
    }
}
