namespace WsiSegment.Model.Training;

/// <summary>A dataset file that cannot be used (unreadable, wrong size, label out of range); the message names the file.</summary>
public sealed class DatasetFormatException(string path, string reason, Exception? inner = null)
    : Exception($"{path}: {reason}", inner)
{
    public string FilePath { get; } = path;
    public string Reason { get; } = reason;
}
