using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using WsiSegment.Processor.Cli;
using WsiSegment.Tiling.Phantoms;

namespace WsiSegment.Processor.Commands;

/// <summary>`wsi-segment synth OUTDIR --size WxH --seed N`: an H&amp;E-like phantom slide and its ground-truth labels.</summary>
public static class SynthCommand
{
    public static Command Create()
    {
        var outDir = new Argument<string>("outdir") { Description = "Directory for phantom-SEED.tif and phantom-SEED.labels.tif." };
        var size = new Option<string>("--size") { Description = "Level-0 size WIDTHxHEIGHT in pixels.", DefaultValueFactory = _ => "10000x12000" };
        var seed = new Option<int>("--seed") { Description = "Random seed: the same seed gives the same bytes.", DefaultValueFactory = _ => 1 };
        var tissue = new Option<double>("--tissue") { Description = "Fraction of the slide covered by tissue, in (0, 1].", DefaultValueFactory = _ => 0.6 };
        var mpp = new Option<double>("--mpp") { Description = "Microns per pixel of level 0 (textures are sized in microns).", DefaultValueFactory = _ => 0.5 };
        var cmd = new Command("synth", "Generate a synthetic H&E-like tissue phantom slide with known ground truth for the 8 classes.")
        {
            outDir, size, seed, tissue, mpp,
        };
        cmd.SetAction((parse, ct) => CommandRunner.RunAsync(parse, "synth", ct, (logs, token) =>
        {
            var log = logs.CreateLogger("wsi-segment.synth");
            var (w, h) = ParseSize(parse.GetValue(size)!);
            var options = new PhantomOptions
            {
                Width = w,
                Height = h,
                Seed = parse.GetValue(seed),
                TissueFraction = parse.GetValue(tissue),
                Mpp = parse.GetValue(mpp),
            };
            try { options.Validate(); }
            catch (ArgumentOutOfRangeException e) { throw new UserError(e.Message.Split(" (Parameter", 2)[0]); }
            var watch = Stopwatch.StartNew();
            int lastLogged = -10;
            string lastFile = "";
            var files = PhantomWriter.Write(options, parse.GetValue(outDir)!, (file, percent) =>
            {
                if (file != lastFile) { lastFile = file; lastLogged = -10; }
                if (percent - lastLogged < 10 && percent < 100) return;
                lastLogged = percent;
                log.LogInformation("Writing {File}: {Percent}%", file, percent);
            }, token);
            log.LogInformation("Wrote {Slide} ({SlideBytes}) and {Labels} ({LabelBytes}) in {Seconds:0.0}s",
                files.Slide, InfoCommand.FormatBytes(new FileInfo(files.Slide).Length),
                files.Labels, InfoCommand.FormatBytes(new FileInfo(files.Labels).Length), watch.Elapsed.TotalSeconds);
            Console.Out.WriteLine(files.Slide);
            Console.Out.WriteLine(files.Labels);
            return Task.FromResult(CommandRunner.Ok);
        }));
        return cmd;
    }

    /// <summary>WIDTHxHEIGHT as two whole numbers; the error names <paramref name="option"/>.</summary>
    internal static (int Width, int Height) ParseSize(string text, string option = "--size")
    {
        var parts = text.ToLowerInvariant().Split('x');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int w)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int h))
            return (w, h);
        throw new UserError($"{option} '{text}': expected WIDTHxHEIGHT, e.g. 10000x12000");
    }
}
