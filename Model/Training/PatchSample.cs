namespace WsiSegment.Model.Training;

/// <summary>Which part of a dataset a patch belongs to (split by slide at extraction, so no slide is in both).</summary>
public enum DatasetSplit
{
    Train,
    Val,

    /// <summary>Held out: neither trained on nor used to pick the best epoch (score it with segment + eval).</summary>
    Test,
}

/// <summary>One patch of a dataset: its RGB image, its label map (uint8 class ids), where it came from.</summary>
public sealed record PatchSample(string ImagePath, string LabelPath, string Slide, DatasetSplit Split);
