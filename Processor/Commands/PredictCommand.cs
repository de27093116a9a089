using System.CommandLine;
using Microsoft.Extensions.Logging;
using NetVips;
using WsiSegment.Model.Inference;
using WsiSegment.Model.IO;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Weights;
using WsiSegment.Processor.Cli;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Processor.Commands;

/// <summary>
/// `wsi-segment predict CKPT INPUT -o OUT`: one forward over a whole input, no tiling. INPUT is an image (decoded by
/// libvips, normalised per the model card) or a .npy float32 N×3×H×W tensor used as is (parity checks against
/// other frameworks). Writes OUT.npy (float32 logits, NCHW) and OUT.png (labels; N images stacked vertically).
/// </summary>
public static class PredictCommand
{
    public static Command Create()
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "The model checkpoint." };
        var input = new Argument<string>("input") { Description = "An image file, or a .npy float32 NCHW tensor used as is." };
        var output = new Option<string>("--output", "-o") { Description = "Output stem: writes STEM.npy (logits) and STEM.png (labels).", Required = true };
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N.", DefaultValueFactory = _ => "auto" };
        var precision = new Option<string>("--precision") { Description = "fp32, bf16 or fp16 (CUDA only).", DefaultValueFactory = _ => "fp32" };
        var cmd = new Command("predict", "Run the model once on a whole image or tensor (no tiling): logits as .npy, labels as .png.")
            { checkpoint, input, output, device, precision };
        cmd.SetAction((parse, ct) => CommandRunner.RunAsync(parse, "predict", ct, (logs, _) =>
        {
            var log = logs.CreateLogger("wsi-segment.predict");
            var ckpt = parse.GetValue(checkpoint)!;
            var inputPath = parse.GetValue(input)!;
            foreach (var f in new[] { ckpt, inputPath })
                if (!File.Exists(f)) throw new UserError($"{f}: not found");
            var stem = parse.GetValue(output)!;
            if (stem.EndsWith(".npy", StringComparison.OrdinalIgnoreCase) || stem.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
                stem = stem[..^4];
            InferenceOptions options;
            try
            {
                options = new InferenceOptions { Device = parse.GetValue(device)!, Precision = InferenceOptions.ParsePrecision(parse.GetValue(precision)!) };
            }
            catch (ArgumentException e)
            {
                throw new UserError(e.Message, e);
            }

            TorchRuntime.Initialise();
            using var model = Checkpoint.Load(ckpt);
            using var engine = WrapUserErrors(() => InferenceEngine.Create(model, options));
            LogitMaps maps;
            string inputShape;
            if (inputPath.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            {
                var (data, shape) = NpyFile.ReadFloat32(inputPath);
                if (shape.Length != 4 || shape[1] != 3)
                    throw new UserError($"{inputPath}: expected a float32 N×3×H×W array, got ({string.Join(", ", shape)})");
                maps = engine.PredictWhole(data, checked((int)shape[0]), checked((int)shape[2]), checked((int)shape[3]));
                inputShape = string.Join("x", shape);
            }
            else
            {
                var (rgb, h, w) = DecodeRgb(inputPath);
                maps = engine.PredictWhole(rgb, 1, h, w);
                inputShape = $"1x3x{h}x{w}";
            }
            NpyFile.WriteFloat32(stem + ".npy", maps.Logits, maps.Shape);
            VipsSetup.EnsureInitialised();
            using (var image = Image.NewFromMemory(maps.Labels, maps.Width, maps.Count * maps.Height, 1, Enums.BandFormat.Uchar))
                image.WriteToFile(stem + ".png");
            log.LogInformation("Predicted {Input} ({Shape}) with {Checkpoint}: wrote {Npy} and {Png}",
                inputPath, inputShape, ckpt, stem + ".npy", stem + ".png");
            return Task.FromResult(CommandRunner.Ok);
        }));
        return cmd;
    }

    private static T WrapUserErrors<T>(Func<T> f)
    {
        try
        {
            return f();
        }
        catch (ArgumentException e)
        {
            throw new UserError(e.Message, e);
        }
    }

    /// <summary>Decodes any image libvips reads into 8-bit sRGB HWC bytes (<see cref="RgbImage.ToRgb8"/>: alpha on white, grey expanded).</summary>
    private static (byte[] Rgb, int H, int W) DecodeRgb(string path)
    {
        VipsSetup.EnsureInitialised();
        try
        {
            using var image = Image.NewFromFile(path, access: Enums.Access.Sequential, failOn: Enums.FailOn.Error);
            using var rgb = RgbImage.ToRgb8(image);
            return (rgb.WriteToMemory<byte>(), rgb.Height, rgb.Width);
        }
        catch (VipsException e)
        {
            throw new UserError($"{path}: not an image libvips can read ({e.Message.Split('\n')[0]})", e);
        }
    }
}
