using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using TorchSharp;
using WsiSegment.Model.Cards;
using WsiSegment.Model.Metrics;
using WsiSegment.Model.Network;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Weights;
using static TorchSharp.torch;

namespace WsiSegment.Model.Training;

/// <summary>
/// Trains ESPNet-C and/or ESPNet on a checked <see cref="PatchDataset"/> with the paper's recipe: Adam, step
/// learning-rate decay, cross-entropy weighted by 1/ln(1.10 + p_c). Each epoch trains on augmented batches made by
/// a background <see cref="BatchLoader"/>, validates (loss, confusion matrix, mIoU), appends to metrics.csv and
/// saves last (and best) checkpoints. Cancelling stops between batches; the last finished epoch's checkpoint stays.
/// </summary>
public sealed class Trainer
{
    private readonly TrainingOptions _options;
    private readonly PatchDataset _dataset;
    private readonly ImageFileReader _reader;
    private readonly ILogger _log;
    private readonly IProgress<TrainingProgress>? _progress;
    private readonly Action<string>? _epochWritten;

    /// <param name="epochWritten">Called with a stage's folder after each epoch's metrics.csv row (e.g. to redraw its plot).</param>
    public Trainer(TrainingOptions options, PatchDataset dataset, ImageFileReader reader, ILogger log, IProgress<TrainingProgress>? progress = null,
        Action<string>? epochWritten = null)
    {
        _epochWritten = epochWritten;
        _options = options.Validate();
        if (dataset.Classes != options.Classes)
            throw new ArgumentException($"dataset was checked for {dataset.Classes} classes, options say {options.Classes}");
        _dataset = dataset;
        _reader = reader;
        _log = log;
        _progress = progress;
    }

    /// <summary>The square crop the network trains on: the option, else the patch size rounded down to a multiple of 8.</summary>
    public int Crop => _options.Crop ?? ValidationCrop;

    /// <summary>Validation sees whole patches (the network is fully convolutional), cut to a multiple of 8.</summary>
    public int ValidationCrop => Math.Max(16, Math.Min(_dataset.PatchWidth, _dataset.PatchHeight) / 8 * 8);

    public IReadOnlyList<string> ClassNames =>
        _options.ClassNames ?? (_dataset.Index.ClassNames is { } n && n.Count == _options.Classes ? n : ModelCard.Default(ModelArchitecture.EspNet, _options.Classes).Classes.Select(c => c.Name).ToList());

    /// <summary>Runs the stage(s) asked for. For <see cref="TrainingStage.Both"/> the encoder goes to OUT/encoder and the full network to OUT.</summary>
    public IReadOnlyList<StageResult> Run(CancellationToken ct)
    {
        TorchRuntime.Initialise();
        var results = new List<StageResult>();
        string root = _options.OutputDirectory;
        switch (_options.Stage)
        {
            case TrainingStage.Encoder:
                results.Add(RunStage(TrainingStage.Encoder, root, null, ct));
                break;
            case TrainingStage.Full:
                results.Add(RunStage(TrainingStage.Full, root, _options.EncoderCheckpoint, ct));
                break;
            default:
                var encoder = RunStage(TrainingStage.Encoder, Path.Combine(root, "encoder"), null, ct);
                results.Add(encoder);
                results.Add(RunStage(TrainingStage.Full, root, encoder.BestCheckpoint, ct));
                break;
        }
        return results;
    }

    private StageResult RunStage(TrainingStage stage, string directory, string? encoderCheckpoint, CancellationToken ct)
    {
        var arch = TrainingOptions.ArchitectureOf(stage);
        int epochs = _options.EpochsOf(stage), classes = _options.Classes, crop = Crop;
        int labelStride = arch.OutputStride();
        var device = TorchRuntime.ResolveDevice(_options.Device);
        var files = new TrainingCheckpoint(directory);
        Directory.CreateDirectory(directory);

        torch.manual_seed(Seeds.Mix(_options.Seed, (int)stage, 7));
        using var network = NetworkFactory.Create(arch, classes, _options.P, _options.Q);
        var resumeState = _options.Resume && files.CanResume ? files.ReadState() : null;
        if (resumeState is not null && (resumeState.Stage != stage.ToString() || resumeState.Classes != classes || resumeState.P != _options.P || resumeState.Q != _options.Q))
            throw new InvalidDataException($"{files.State}: was written by stage {resumeState.Stage} p={resumeState.P} q={resumeState.Q} with {resumeState.Classes} classes; this run is {stage} p={_options.P} q={_options.Q} with {classes}");
        if (resumeState is { } rs && rs.Epoch >= epochs)
        {
            _log.LogInformation("{Stage}: already trained for {Epochs} epochs in {Dir}; nothing to resume", stage, rs.Epoch, directory);
            return new StageResult(stage, directory, rs.Epoch, rs.BestMeanIoU, rs.BestEpoch, File.Exists(files.Best) ? files.Best : files.Last, files.Last, []);
        }
        var pretrained = new HashSet<string>(StringComparer.Ordinal);
        if (resumeState is null && _options.InitCheckpoint is not null)
            pretrained.UnionWith(InitialiseFrom(network, _options.InitCheckpoint, stage, directory));
        if (resumeState is null && stage == TrainingStage.Full && encoderCheckpoint is not null)
            pretrained.UnionWith(InitialiseEncoder(network, encoderCheckpoint));
        network.to(device);
        var normalisation = InputConvention.For(resumeState is not null ? files.Last : null, resumeState is null ? _options.InitCheckpoint : null,
            resumeState is null && stage == TrainingStage.Full ? encoderCheckpoint : null, _dataset, _log);

        // Built while every parameter is trainable, so frozen ones get their Adam slots for when they thaw.
        using var optimizer = AdamOptimizer.For(network, new AdamOptions { LearningRate = _options.LearningRate, WeightDecay = _options.WeightDecay });
        var freezer = new EncoderFreezer(network, arch, pretrained);
        int startEpoch = 0;
        double bestMiou = -1;
        int bestEpoch = 0;
        if (resumeState is not null)
        {
            files.Restore(network, optimizer);
            startEpoch = resumeState.Epoch;
            bestMiou = resumeState.BestMeanIoU;
            bestEpoch = resumeState.BestEpoch;
            _log.LogInformation("{Stage}: resuming from epoch {Epoch} of {Epochs} ({File}), best mIoU so far {Best:0.000}", stage, startEpoch, epochs, files.Last, bestMiou);
        }
        else if (File.Exists(Path.Combine(directory, MetricsCsv.FileName)))
        {
            File.Delete(Path.Combine(directory, MetricsCsv.FileName)); // a fresh run: its own metrics
        }

        var weights = ClassWeights.FromHistogram(_dataset.TrainHistogram);
        using var classWeights = tensor(weights).to(device);
        var card = CardFor(arch, crop, normalisation);
        var augmenter = new PatchAugmenter(_options.Augmentation, normalisation);
        var stain = _options.StainNormalisation is { } sn ? new Stain.StainTransform(sn) : null;
        var loader = new BatchLoader(_reader, augmenter, classes, _options.SkipBad, _log, stain);
        _log.LogInformation("{Stage}: {Arch} p={P} q={Q}, {Params:N0} parameters, {Train} train / {Val} val patches, crop {Crop}, batch {Batch}, {Epochs} epochs on {Device}; class weights [{Weights}]",
            stage, arch.Name(), _options.P, _options.Q, NetworkFactory.CountParameters(network), _dataset.Train.Count, _dataset.Val.Count,
            crop, _options.BatchSize, epochs, device.ToString(), string.Join(", ", weights.Select(w => w.ToString("0.00", CultureInfo.InvariantCulture))));

        var history = new List<EpochResult>();
        for (int epoch = startEpoch; epoch < epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            double lr = _options.LearningRateAt(epoch);
            optimizer.LearningRate = lr;
            bool frozen = epoch < _options.FreezeEncoderEpochs && freezer.Count > 0;
            if (frozen != freezer.Frozen)
            {
                freezer.Set(frozen);
                _log.LogInformation("{Stage} epoch {Epoch}: encoder {State} ({Count} pretrained tensors)", stage, epoch + 1, frozen ? "frozen" : "trainable", freezer.Count);
            }

            var (trainLoss, trainPatches) = TrainEpoch(stage, network, optimizer, classWeights, loader, crop, labelStride, epoch, epochs, device, ct);
            var (valLoss, scores) = Validate(stage, network, classWeights, loader, labelStride, epoch, epochs, device, ct);
            double miou = scores.MeanIoU ?? 0;
            var result = new EpochResult(stage, epoch + 1, lr, trainLoss, valLoss, miou, scores.PixelAccuracy ?? 0,
                scores.Classes.Select(c => c.IoU).ToList(), clock.Elapsed.TotalSeconds, trainPatches);
            bool isBest = miou > bestMiou;
            if (isBest) { bestMiou = miou; bestEpoch = epoch + 1; }
            var state = new TrainingState
            {
                Stage = stage.ToString(), Epoch = epoch + 1, BestMeanIoU = bestMiou, BestEpoch = bestEpoch, Seed = _options.Seed,
                Classes = classes, P = _options.P, Q = _options.Q,
            };
            files.Save(network, card, optimizer, state, isBest);
            MetricsCsv.Append(directory, result, ClassNames);
            _epochWritten?.Invoke(directory);
            history.Add(result);
            _log.LogInformation("{Stage} epoch {Epoch}/{Epochs}: train loss {TrainLoss:0.0000}, val loss {ValLoss:0.0000}, val mIoU {MIoU:0.0000}{Best}, pixel acc {Acc:0.0000}, IoU [{IoU}] ({Seconds:0.0}s, lr {Lr:G3})",
                stage, epoch + 1, epochs, trainLoss, valLoss, miou, isBest ? " (best)" : "", result.ValPixelAccuracy,
                string.Join(" ", result.ClassIoU.Select(v => v is { } x ? x.ToString("0.00", CultureInfo.InvariantCulture) : "-")),
                result.Seconds, lr);
        }
        return new StageResult(stage, directory, epochs, bestMiou, bestEpoch, File.Exists(files.Best) ? files.Best : files.Last, files.Last, history);
    }

    private (double Loss, int Patches) TrainEpoch(TrainingStage stage, nn.Module<Tensor, Tensor> network, AdamOptimizer optimizer,
        Tensor classWeights, BatchLoader loader, int crop, int labelStride, int epoch, int epochs, Device device, CancellationToken ct)
    {
        network.train();
        double lossSum = 0;
        int patches = 0, batches = (_dataset.Train.Count + _options.BatchSize - 1) / _options.BatchSize, done = 0, skipped = 0, unlabelledBatches = 0;
        var clock = Stopwatch.StartNew();
        var batchesOfEpoch = loader.Epoch(_dataset.Train, _options.BatchSize, crop, labelStride, train: true, _options.Seed, epoch, ct).ToBlockingEnumerable(ct);
        foreach (var batch in batchesOfEpoch)
        {
            ct.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            long labelled = SegmentationLoss.LabelledPixels(batch.Labels);
            if (labelled == 0) { unlabelledBatches++; continue; } // every crop fell on unlabelled pixels: nothing to learn
            var (input, target) = ToTensors(batch, device);
            optimizer.ZeroGrad();
            var logits = network.call(input);
            var loss = SegmentationLoss.Compute(logits, target, classWeights, labelled)!;
            double value = loss.item<float>();
            if (!double.IsFinite(value))
                throw new InvalidOperationException($"{stage} epoch {epoch + 1}: the training loss became {value}; lower --lr");
            loss.backward();
            // libtorch 2.10's CPU backward of this network now and then yields non-finite gradients (seen on tiny
            // patches, even single-threaded); one such step would poison every weight. Skip it, as AMP's scaler does.
            double norm = nn.utils.clip_grad_norm_(network.parameters(), 1e9);
            if (!double.IsFinite(norm))
            {
                optimizer.ZeroGrad();
                if (++skipped > Math.Max(2, batches / 4))
                    throw new InvalidOperationException($"{stage} epoch {epoch + 1}: {skipped} batches gave non-finite gradients; lower --lr");
                _log.LogDebug("{Stage} epoch {Epoch}: skipped a step with non-finite gradients", stage, epoch + 1);
                continue;
            }
            optimizer.Step();
            lossSum += value * batch.Count;
            patches += batch.Count;
            done++;
            _progress?.Report(new TrainingProgress(stage, epoch + 1, epochs, "train", done, batches, lossSum / patches, patches / clock.Elapsed.TotalSeconds));
        }
        if (patches == 0 && unlabelledBatches > 0)
            throw new InvalidOperationException($"{stage} epoch {epoch + 1}: no training crop had a labelled pixel; use a larger --crop or annotate more");
        if (patches == 0) throw new InvalidOperationException($"{stage} epoch {epoch + 1}: no training patch could be read");
        if (unlabelledBatches > 0) _log.LogDebug("{Stage} epoch {Epoch}: {Count} batches had no labelled pixel", stage, epoch + 1, unlabelledBatches);
        if (skipped > 0) _log.LogWarning("{Stage} epoch {Epoch}: skipped {Skipped} of {Batches} steps with non-finite gradients", stage, epoch + 1, skipped, done);
        return (lossSum / patches, patches);
    }

    private (double Loss, SegmentationScores Scores) Validate(TrainingStage stage, nn.Module<Tensor, Tensor> network, Tensor classWeights,
        BatchLoader loader, int labelStride, int epoch, int epochs, Device device, CancellationToken ct)
    {
        network.eval();
        var confusion = new ConfusionMatrix(_options.Classes, PatchAugmenter.IgnoreLabel);
        double lossSum = 0;
        int patches = 0, batches = (_dataset.Val.Count + _options.BatchSize - 1) / _options.BatchSize, done = 0;
        var clock = Stopwatch.StartNew();
        using var noGrad = no_grad();
        foreach (var batch in loader.Epoch(_dataset.Val, _options.BatchSize, ValidationCrop, labelStride, train: false, _options.Seed, epoch, ct).ToBlockingEnumerable(ct))
        {
            ct.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var (input, target) = ToTensors(batch, device);
            var logits = network.call(input);
            var loss = SegmentationLoss.Compute(logits, target, classWeights, SegmentationLoss.LabelledPixels(batch.Labels));
            if (loss is not null)
            {
                lossSum += loss.item<float>() * batch.Count;
                patches += batch.Count;
            }
            var predicted = logits.argmax(1).to(ScalarType.Byte).cpu();
            confusion.Add(predicted.data<byte>().ToArray(), batch.Labels);
            done++;
            _progress?.Report(new TrainingProgress(stage, epoch + 1, epochs, "val", done, batches, lossSum / patches, patches / clock.Elapsed.TotalSeconds));
        }
        return (patches > 0 ? lossSum / patches : double.NaN, confusion.Score(ClassNames));
    }

    private static (Tensor Input, Tensor Target) ToTensors(TrainingBatch batch, Device device)
    {
        var input = tensor(batch.Inputs, [batch.Count, 3, batch.Size, batch.Size]).to(device);
        var target = tensor(batch.Labels, [batch.Count, batch.LabelSize, batch.LabelSize]).to(ScalarType.Int64).to(device);
        return (input, target);
    }

    /// <summary>Fine-tuning start: loads every tensor of <paramref name="checkpoint"/> whose name and shape fit, logs and
    /// writes (init.json) which were loaded and which re-initialised; returns the loaded names.</summary>
    private IReadOnlyList<string> InitialiseFrom(nn.Module<Tensor, Tensor> network, string checkpoint, TrainingStage stage, string directory)
    {
        if (!File.Exists(checkpoint)) throw new FileNotFoundException($"{checkpoint}: no such checkpoint (--init)", checkpoint);
        var content = SafetensorsFile.Read(checkpoint);
        if (content.Metadata.TryGetValue(Checkpoint.CardKey, out var json)) _ = ModelCard.FromJson(json, checkpoint);
        var report = WeightTransfer.Apply(network, content.ByName);
        if (report.Loaded.Count == 0)
            throw new InvalidDataException($"{checkpoint}: not one tensor fits this {TrainingOptions.ArchitectureOf(stage).Name()} p={_options.P} q={_options.Q} (--init needs an ESPNet or ESPNet-C checkpoint)");
        _log.LogInformation("{Stage}: --init {Checkpoint}: loaded {Loaded} tensors ({Modules}); re-initialised {Fresh}: {FreshList}; {Unused} file tensors unused",
            stage, checkpoint, report.Loaded.Count, string.Join(", ", report.LoadedModules), report.Reinitialised.Count,
            string.Join("; ", report.Reinitialised), report.Unused.Count);
        File.WriteAllText(Path.Combine(directory, "init.json"), System.Text.Json.JsonSerializer.Serialize(new
        {
            checkpoint, loaded = report.Loaded, reinitialised = report.Reinitialised, unused = report.Unused,
        }, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        return report.Loaded;
    }

    private IReadOnlyList<string> InitialiseEncoder(nn.Module<Tensor, Tensor> network, string encoderCheckpoint)
    {
        if (!File.Exists(encoderCheckpoint)) throw new FileNotFoundException($"{encoderCheckpoint}: no such encoder checkpoint", encoderCheckpoint);
        var content = SafetensorsFile.Read(encoderCheckpoint);
        if (content.Metadata.TryGetValue(Checkpoint.CardKey, out var json))
        {
            var card = ModelCard.FromJson(json, encoderCheckpoint);
            if (card.Arch != ModelArchitecture.EspNetC)
                throw new ModelCardException(encoderCheckpoint, $"is an {card.Architecture} checkpoint; --encoder needs an espnet-c one (from --stage encoder)");
            card.EnsureMatches(ModelArchitecture.EspNetC, _options.Classes, _options.P, _options.Q, encoderCheckpoint);
        }
        WeightLoader.Load(network, content.ByName, encoderCheckpoint, "encoder.", hint: $"expected an ESPNet-C p={_options.P} q={_options.Q} with {_options.Classes} classes");
        _log.LogInformation("Full stage starts from the encoder in {Checkpoint}", encoderCheckpoint);
        return network.state_dict().Keys.Where(k => k.StartsWith("encoder.", StringComparison.Ordinal)).ToList();
    }

    private ModelCard CardFor(ModelArchitecture arch, int crop, InputNormalisation normalisation)
    {
        var names = ClassNames;
        var baseCard = ModelCard.Default(arch, _options.Classes, _options.P, _options.Q);
        var classes = baseCard.Classes.WithNames(names);
        string Slides(IEnumerable<PatchSample> s) => string.Join(", ", s.Select(x => x.Slide).Where(x => x.Length > 0).Distinct().Order(StringComparer.Ordinal));
        long total = _dataset.TrainHistogram.Sum();
        string histogram = string.Join(", ", _dataset.TrainHistogram.Select((n, i) =>
            string.Create(CultureInfo.InvariantCulture, $"{names[i]} {100.0 * n / Math.Max(total, 1):0.0}%")));
        return baseCard with
        {
            Classes = classes,
            Normalisation = normalisation, // what the augmenter fed the network: segment/predict/eval apply the same
            StainNormalisation = _options.StainNormalisation,
            TrainedMpp = _options.Mpp ?? _dataset.Index.Mpp,
            TrainedPatchSize = crop,
            TrainingData = $"{_dataset.Train.Count} training patches from slides [{Slides(_dataset.Train)}], {_dataset.Val.Count} validation patches from [{Slides(_dataset.Val)}] " +
                           $"of {Path.GetFileName(Path.GetFullPath(_dataset.Index.Root).TrimEnd('/'))}; training pixels: {histogram}; " +
                           $"Adam lr {_options.LearningRate:G3} wd {_options.WeightDecay:G3}, lr x{_options.LrGamma} every {_options.LrStep} epochs, " +
                           $"batch {_options.BatchSize}, seed {_options.Seed}",
            Description = _options.Description,
        };
    }
}
