using WsiSegment.Model.Network;

namespace WsiSegment.Model.Training;

/// <summary>Which network(s) to train: ESPNet-C on 8× down-sampled labels, the full ESPNet on top of it, or both in turn.</summary>
public enum TrainingStage
{
    Encoder,
    Full,
    Both,
}

/// <summary>
/// Everything a training run needs; defaults are the paper's recipe (Adam, lr 5e-4, weight decay 5e-4, lr halved
/// every 100 epochs, class-weighted cross-entropy). Validated once, at the boundary.
/// </summary>
public sealed record TrainingOptions
{
    public required string PatchesDirectory { get; init; }
    public required string OutputDirectory { get; init; }
    public TrainingStage Stage { get; init; } = TrainingStage.Both;

    /// <summary>Epochs of the full ESPNet stage (and of the encoder stage unless <see cref="EncoderEpochs"/> is set).</summary>
    public int Epochs { get; init; } = 300;
    public int? EncoderEpochs { get; init; }
    public int BatchSize { get; init; } = 8;
    public int Classes { get; init; } = 8;
    public int P { get; init; } = 2;
    public int Q { get; init; } = 8;

    /// <summary>Square training crop (multiple of 8); null: the dataset's patch size rounded down to a multiple of 8.</summary>
    public int? Crop { get; init; }
    public double LearningRate { get; init; } = 5e-4;
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>The learning rate is multiplied by <see cref="LrGamma"/> every <see cref="LrStep"/> epochs.</summary>
    public int LrStep { get; init; } = 100;
    public double LrGamma { get; init; } = 0.5;

    /// <summary>ESPNet-C checkpoint to start the full stage from (stage full only; stage both uses its own).</summary>
    public string? EncoderCheckpoint { get; init; }

    /// <summary>
    /// Checkpoint to fine-tune from (ours, or the authors' weights via `model import`, any class count): tensors with a
    /// matching name and shape are loaded, the rest (the class-dependent layers) keep their fresh initialisation.
    /// </summary>
    public string? InitCheckpoint { get; init; }

    /// <summary>Epochs at the start of each stage during which the encoder's loaded weights are not updated.</summary>
    public int FreezeEncoderEpochs { get; init; }

    /// <summary>Stain normalisation fitted on the reference image (applied to every patch, stored in the card); null: none.</summary>
    public Cards.StainNormalisation? StainNormalisation { get; init; }

    /// <summary>Continue from OUT/last.safetensors, its optimizer state and epoch count.</summary>
    public bool Resume { get; init; }
    public int Seed { get; init; } = 1;
    public string Device { get; init; } = "auto";
    public bool SkipBad { get; init; }
    public AugmentationOptions Augmentation { get; init; } = new();

    /// <summary>Class names for the card (null: the dataset's, else the default names for the class count).</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>Microns per pixel of the patches for the card, when the dataset does not record it (or to override it).</summary>
    public double? Mpp { get; init; }

    /// <summary>Free text for the card's description (e.g. "demonstration model ...").</summary>
    public string? Description { get; init; }

    public int EpochsOf(TrainingStage stage) => stage == TrainingStage.Encoder ? EncoderEpochs ?? Epochs : Epochs;

    public TrainingOptions Validate()
    {
        if (string.IsNullOrWhiteSpace(PatchesDirectory)) throw new ArgumentException("no patch dataset folder given");
        if (string.IsNullOrWhiteSpace(OutputDirectory)) throw new ArgumentException("no output folder given");
        if (Epochs < 1 || EncoderEpochs is < 1) throw new ArgumentException("epochs must be at least 1");
        if (BatchSize < 1) throw new ArgumentException($"batch size {BatchSize} must be at least 1");
        if (Classes is < 2 or > 254) throw new ArgumentException($"classes {Classes} must be within 2..254");
        if (P < 1 || Q < 1) throw new ArgumentException($"p={P} and q={Q} must be at least 1");
        if (Crop is { } c && (c < 16 || c % 8 != 0)) throw new ArgumentException($"crop {c} must be a multiple of 8 and at least 16");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new ArgumentException($"learning rate {LearningRate} must be positive");
        if (WeightDecay < 0 || !double.IsFinite(WeightDecay)) throw new ArgumentException($"weight decay {WeightDecay} must be >= 0");
        if (LrStep < 1) throw new ArgumentException($"lr step {LrStep} must be at least 1 epoch");
        if (!(LrGamma > 0) || LrGamma > 1) throw new ArgumentException($"lr gamma {LrGamma} must be within (0, 1]");
        if (Stage == TrainingStage.Full && EncoderCheckpoint is null && InitCheckpoint is null && !Resume)
            throw new ArgumentException("--stage full needs --encoder CKPT (an ESPNet-C checkpoint from --stage encoder) or --init CKPT");
        if (FreezeEncoderEpochs < 0) throw new ArgumentException($"freeze-encoder epochs {FreezeEncoderEpochs} must be >= 0");
        if (FreezeEncoderEpochs > 0 && InitCheckpoint is null && EncoderCheckpoint is null)
            throw new ArgumentException("--freeze-encoder-epochs needs pretrained weights to keep: --init CKPT (or --encoder for --stage full)");
        if (Stage != TrainingStage.Full && EncoderCheckpoint is not null)
            throw new ArgumentException("--encoder only applies to --stage full (--stage both trains its own encoder)");
        if (Mpp is { } mpp && !(mpp > 0 && mpp < 1000)) throw new ArgumentException($"mpp {mpp} must be a positive number of microns per pixel");
        Augmentation.Validate();
        return this;
    }

    /// <summary>The learning rate of a 0-based epoch under the step schedule.</summary>
    public double LearningRateAt(int epoch) => LearningRate * Math.Pow(LrGamma, epoch / LrStep);

    public static ModelArchitecture ArchitectureOf(TrainingStage stage) =>
        stage == TrainingStage.Encoder ? ModelArchitecture.EspNetC : ModelArchitecture.EspNet;
}
