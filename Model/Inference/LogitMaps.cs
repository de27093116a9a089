using TorchSharp;
using static TorchSharp.torch;

namespace WsiSegment.Model.Inference;

/// <summary>
/// Logits of whole inputs (one forward, no tiling) and their arg-max labels, copied out of libtorch:
/// <see cref="Logits"/> float32 N×Classes×H×W (NCHW), <see cref="Labels"/> N×H×W class ids. ESPNet-C's are at 1/8 size.
/// </summary>
public sealed record LogitMaps(float[] Logits, byte[] Labels, int Count, int Classes, int Height, int Width)
{
    /// <summary>The logits' shape, N×Classes×H×W.</summary>
    public long[] Shape => [Count, Classes, Height, Width];

    /// <summary>Copies network logits (any dtype, device and strides) out. Temporaries land in the caller's dispose scope.</summary>
    internal static LogitMaps From(Tensor logits)
    {
        var cpu = logits.to(ScalarType.Float32).contiguous().cpu().contiguous();
        var labels = cpu.argmax(1).to(ScalarType.Byte).contiguous();
        return new LogitMaps(cpu.data<float>().ToArray(), labels.data<byte>().ToArray(),
            (int)cpu.shape[0], (int)cpu.shape[1], (int)cpu.shape[2], (int)cpu.shape[3]);
    }
}
