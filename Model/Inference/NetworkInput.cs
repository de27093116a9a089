using static TorchSharp.torch;

namespace WsiSegment.Model.Inference;

/// <summary>
/// A network input made once and run many times (benchmarks): float32 N×3×H×W, already normalised. Made by
/// <see cref="InferenceEngine.NormaliseRgb"/> or <see cref="Random"/>; run by <see cref="InferenceEngine.RunForward"/>.
/// Owns one native tensor: dispose it.
/// </summary>
public sealed class NetworkInput : IDisposable
{
    private Tensor? _tensor;

    internal NetworkInput(Tensor tensor)
    {
        if (tensor.dim() != 4 || tensor.shape[1] != 3)
            throw new ArgumentException($"internal: a network input is N×3×H×W, got [{string.Join(", ", tensor.shape)}]");
        _tensor = tensor;
        Count = (int)tensor.shape[0];
        Height = (int)tensor.shape[2];
        Width = (int)tensor.shape[3];
    }

    public int Count { get; }
    public int Height { get; }
    public int Width { get; }

    internal Tensor Tensor => _tensor ?? throw new ObjectDisposedException(nameof(NetworkInput));

    /// <summary>Standard-normal values from libtorch's global generator, on the CPU (the engine moves them per call).</summary>
    public static NetworkInput Random(int n, int h, int w)
    {
        if (n < 1 || h < 1 || w < 1) throw new ArgumentOutOfRangeException(nameof(n), $"input {n}×3×{h}×{w} must be positive");
        return new NetworkInput(randn(n, 3, h, w));
    }

    public void Dispose()
    {
        _tensor?.Dispose();
        _tensor = null;
    }
}
