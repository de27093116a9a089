namespace WsiSegment.Model.Weights;

/// <summary>A file that is not a valid safetensors file (truncated, not safetensors at all, inconsistent header). The message names the file.</summary>
public sealed class SafetensorsFormatException(string file, string reason, Exception? inner = null)
    : IOException($"{file}: {reason}", inner)
{
    public string File { get; } = file;
    public string Reason { get; } = reason;
}
