using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using WsiSegment.Model.Training;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Training;

namespace WsiSegment.Processor.Commands;

/// <summary>`wsi-segment train --patches DIR -o OUT`: two-stage ESPNet training on an extracted patch dataset.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var patches = new Option<string>("--patches") { Description = "Patch dataset folder (images/, labels/, index.csv from `extract`).", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "Output folder: best/last checkpoints, metrics.csv.", Required = true };
        var stage = new Option<string>("--stage") { Description = "encoder (ESPNet-C on 8x down-sampled labels), full (ESPNet on --encoder), or both.", DefaultValueFactory = _ => "both" };
        var epochs = new Option<int>("--epochs") { Description = "Epochs per stage.", DefaultValueFactory = _ => 300 };
        var encoderEpochs = new Option<int?>("--encoder-epochs") { Description = "Epochs of the encoder stage (default: --epochs)." };
        var batch = new Option<int>("--batch", "-b") { Description = "Patches per batch.", DefaultValueFactory = _ => 8 };
        var classes = new Option<int>("--classes") { Description = "Number of classes (label ids 0..classes-1).", DefaultValueFactory = _ => 8 };
        var p = new Option<int>("--p") { Description = "ESP blocks at 1/4 resolution (depth multiplier p).", DefaultValueFactory = _ => 2 };
        var q = new Option<int>("--q") { Description = "ESP blocks at 1/8 resolution (depth multiplier q).", DefaultValueFactory = _ => 8 };
        var crop = new Option<int?>("--crop") { Description = "Training crop in pixels, a multiple of 8 (default: the patch size)." };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => 5e-4 };
        var wd = new Option<double>("--weight-decay") { Description = "Adam weight decay.", DefaultValueFactory = _ => 5e-4 };
        var lrStep = new Option<int>("--lr-step") { Description = "Multiply the learning rate by --lr-gamma every this many epochs.", DefaultValueFactory = _ => 100 };
        var lrGamma = new Option<double>("--lr-gamma") { Description = "Learning-rate decay factor.", DefaultValueFactory = _ => 0.5 };
        var encoder = new Option<string?>("--encoder") { Description = "ESPNet-C checkpoint to start --stage full from." };
        var init = new Option<string?>("--init")
        {
            Description = "Fine-tune from this checkpoint (ours, or the authors' weights turned into one with `model import`), any class count: "
                + "tensors with matching name and shape are loaded, class-dependent layers re-initialised (listed in the log and OUT/init.json).",
        };
        var freeze = new Option<int>("--freeze-encoder-epochs") { Description = "Keep the pretrained encoder fixed for the first N epochs of each stage.", DefaultValueFactory = _ => 0 };
        var stainMethod = new Option<string?>("--stain-normalise") { Description = "Stain normalisation: macenko or reinhard, fitted once on --stain-reference and stored in the model card (segment and watch then apply it)." };
        var stainReference = new Option<string?>("--stain-reference") { Description = "Reference image (PNG/TIFF/JPEG of typical stained tissue) for --stain-normalise." };
        var resume = new Option<bool>("--resume") { Description = "Continue from OUT's last checkpoint, optimizer state and epoch." };
        var seed = new Option<int>("--seed") { Description = "Seed for weights, shuffling and augmentation.", DefaultValueFactory = _ => 1 };
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N.", DefaultValueFactory = _ => "auto" };
        var skipBad = new Option<bool>("--skip-bad") { Description = "Skip unreadable or invalid patches with a warning instead of failing." };
        var noAugment = new Option<bool>("--no-augment") { Description = "Train without augmentation." };
        var mpp = new Option<double?>("--mpp") { Description = "Microns per pixel of the patches, for the model card (default: from the dataset, if it records it)." };
        var description = new Option<string?>("--description") { Description = "Description stored in the model card." };
        var cmd = new Command("train", "Train ESPNet-C and ESPNet on a patch dataset (Adam, class-weighted cross-entropy, step lr decay).")
        {
            patches, output, stage, epochs, encoderEpochs, batch, classes, p, q, crop, lr, wd, lrStep, lrGamma, encoder, init, freeze, stainMethod, stainReference, resume, seed, device,
            skipBad, noAugment, mpp, description,
        };
        cmd.SetAction((parse, ct) =>
        {
            // Ctrl+C cancels the token; a training step cannot be interrupted, so give the current batch (seconds on a
            // busy CPU) time to finish instead of System.CommandLine's default 2 s before it kills the process.
            parse.InvocationConfiguration.ProcessTerminationTimeout = TimeSpan.FromMinutes(2);
            return RunStoppable(parse, ct);
        });
        return cmd;

        // Our own SIGINT/SIGTERM handling: the first signal asks training to stop after the current batch (the last
        // finished epoch's checkpoint stays); the process is not killed under the running step.
        async Task<int> RunStoppable(ParseResult parse, CancellationToken ct)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            void OnSignal(PosixSignalContext context)
            {
                context.Cancel = true;
                if (!stop.IsCancellationRequested) Console.Error.WriteLine("train: stopping after the current batch (the last finished epoch's checkpoint is kept)");
                stop.Cancel();
            }
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            return await Run(parse, stop.Token);
        }

        Task<int> Run(ParseResult parse, CancellationToken ct) => CommandRunner.RunAsync(parse, "train", ct, (logs, ct) =>
        {
            var log = logs.CreateLogger("wsi-segment.train");
            TrainingOptions options;
            try
            {
                options = new TrainingOptions
                {
                    PatchesDirectory = parse.GetValue(patches)!,
                    OutputDirectory = parse.GetValue(output)!,
                    Stage = ParseStage(parse.GetValue(stage)!),
                    Epochs = parse.GetValue(epochs),
                    EncoderEpochs = parse.GetValue(encoderEpochs),
                    BatchSize = parse.GetValue(batch),
                    Classes = parse.GetValue(classes),
                    P = parse.GetValue(p),
                    Q = parse.GetValue(q),
                    Crop = parse.GetValue(crop),
                    LearningRate = parse.GetValue(lr),
                    WeightDecay = parse.GetValue(wd),
                    LrStep = parse.GetValue(lrStep),
                    LrGamma = parse.GetValue(lrGamma),
                    EncoderCheckpoint = parse.GetValue(encoder),
                    InitCheckpoint = parse.GetValue(init),
                    FreezeEncoderEpochs = parse.GetValue(freeze),
                    StainNormalisation = StainFitting.FromOptions(parse.GetValue(stainMethod), parse.GetValue(stainReference), log),
                    Resume = parse.GetValue(resume),
                    Seed = parse.GetValue(seed),
                    Device = parse.GetValue(device)!,
                    SkipBad = parse.GetValue(skipBad),
                    Augmentation = parse.GetValue(noAugment) ? AugmentationOptions.None : new AugmentationOptions(),
                    Description = parse.GetValue(description),
                    Mpp = parse.GetValue(mpp),
                }.Validate();
            }
            catch (ArgumentException e)
            {
                throw new UserError(e.Message, e);
            }

            PatchDataset dataset;
            try
            {
                var stain = options.StainNormalisation is { } sn ? new WsiSegment.Model.Stain.StainTransform(sn) : null;
                dataset = PatchDataset.Load(options.PatchesDirectory, options.Classes, DatasetImageReader.Png, options.SkipBad, log, ct,
                    stain is null ? null : image => image with { Pixels = stain.ApplyToBytes(image.Pixels, image.Width, image.Height) });
            }
            catch (DatasetFormatException e)
            {
                throw new UserError(e.Message, e);
            }
            catch (DirectoryNotFoundException e)
            {
                throw new UserError(e.Message, e);
            }
            if (options.Mpp is null && dataset.Index.Mpp is null)
                log.LogWarning("The dataset records no MPP and --mpp was not given: the model card will not say at which resolution to run the model");
            log.LogInformation("Dataset {Dir}: {Train} training and {Val} validation patches{Skipped}, MPP {Mpp}",
                options.PatchesDirectory, dataset.Train.Count, dataset.Val.Count,
                dataset.Skipped.Count > 0 ? $" ({dataset.Skipped.Count} skipped)" : "",
                (options.Mpp ?? dataset.Index.Mpp) is { } m ? m.ToString("0.###", CultureInfo.InvariantCulture) : "unknown");

            var console = new TrainingConsole(log, parse.GetValue(GlobalOptions.Quiet));
            IReadOnlyList<StageResult> results;
            try
            {
                results = console.Run(progress =>
                    new Trainer(options, dataset, DatasetImageReader.Png, log, progress, directory => PlotQuietly(directory, log)).Run(ct));
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                log.LogWarning("Training stopped; the last finished epoch's checkpoint is kept in {Dir} (continue with --resume)", options.OutputDirectory);
                throw;
            }
            catch (DatasetFormatException e)
            {
                throw new UserError(e.Message, e);
            }
            foreach (var r in results)
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{r.Stage.ToString().ToLowerInvariant()}: best val mIoU {r.BestMeanIoU:0.0000} at epoch {r.BestEpoch} -> {r.BestCheckpoint}"));
            return Task.FromResult(CommandRunner.Ok);
        });
    }

    /// <summary>Redraws OUT/metrics.png; a plot that cannot be drawn (no font, …) is a warning, never a failed epoch.</summary>
    private static void PlotQuietly(string directory, ILogger log)
    {
        try
        {
            MetricsPlot.Write(directory);
        }
        catch (Exception e) when (e is NetVips.VipsException or IOException or UnauthorizedAccessException)
        {
            log.LogWarning("Could not draw {Plot} in {Dir}: {Reason}", MetricsPlot.FileName, directory, e.Message);
        }
    }

    private static TrainingStage ParseStage(string s) => s.Trim().ToLowerInvariant() switch
    {
        "encoder" or "espnet-c" => TrainingStage.Encoder,
        "full" or "espnet" or "decoder" => TrainingStage.Full,
        "both" => TrainingStage.Both,
        _ => throw new UserError($"--stage '{s}': use encoder, full or both"),
    };
}
