namespace WsiSegment.Model.Training;

/// <summary>One finished epoch: losses, validation scores, learning rate and time. IoU is null for a class absent
/// from both the validation truth and the prediction.</summary>
public sealed record EpochResult(
    TrainingStage Stage, int Epoch, double LearningRate, double TrainLoss, double ValLoss, double ValMeanIoU,
    double ValPixelAccuracy, IReadOnlyList<double?> ClassIoU, double Seconds, int TrainPatches);

/// <summary>Progress within an epoch, for a bar or a log line.</summary>
public readonly record struct TrainingProgress(
    TrainingStage Stage, int Epoch, int Epochs, string Phase, int Done, int Total, double Loss, double PatchesPerSecond);

/// <summary>What a stage left behind.</summary>
public sealed record StageResult(TrainingStage Stage, string Directory, int EpochsDone, double BestMeanIoU, int BestEpoch,
    string BestCheckpoint, string LastCheckpoint, IReadOnlyList<EpochResult> Epochs);
