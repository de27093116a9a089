using System.Runtime.InteropServices;
using TorchSharp;
using WsiSegment.Core.Scores;
using static TorchSharp.torch;

namespace WsiSegment.Model.Inference;

/// <summary>
/// Class scores of a batch, left in the memory the network wrote them to: float32 on the CPU, pixel-interleaved
/// (per image H × W × Classes, the class index fastest: its <see cref="Layout"/>), which is the channels-last network's
/// own layout, so handing them on costs neither a transpose nor a copy. Owns one native tensor: dispose it when the scores are consumed.
/// </summary>
public sealed class ScoreBatch : IDisposable
{
    private Tensor? _scores; // N × H × W × C, contiguous, float32, CPU

    internal ScoreBatch(Tensor scores, ScoreKind kind)
    {
        if (scores.dim() != 4 || !scores.is_contiguous() || scores.dtype != ScalarType.Float32 || scores.device_type != DeviceType.CPU)
            throw new ArgumentException("internal: scores must be a contiguous float32 N×H×W×C CPU tensor");
        _scores = scores;
        Count = (int)scores.shape[0];
        Height = (int)scores.shape[1];
        Width = (int)scores.shape[2];
        Classes = (int)scores.shape[3];
        Layout = new ScoreLayout(kind, Classes);
    }

    /// <summary>What the scores are and how they are laid out: what the stitcher reads them by.</summary>
    public ScoreLayout Layout { get; }
    public int Count { get; }
    public int Height { get; }
    public int Width { get; }
    public int Classes { get; }

    /// <summary>Floats per image: H × W × Classes.</summary>
    public int ImageLength => Height * Width * Classes;

    /// <summary>Scores of image <paramref name="index"/>: H × W × Classes floats, pixel-interleaved. Valid until disposed.</summary>
    public ReadOnlySpan<float> Image(int index)
    {
        var t = _scores ?? throw new ObjectDisposedException(nameof(ScoreBatch));
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return MemoryMarshal.Cast<byte, float>(t.bytes).Slice(index * ImageLength, ImageLength);
    }

    public void Dispose()
    {
        _scores?.Dispose();
        _scores = null;
    }
}
