namespace WsiSegment.Model.Inference;

public enum InferencePrecision
{
    /// <summary>float32 everywhere (the default).</summary>
    Fp32,
    /// <summary>bfloat16 weights and activations, float32 softmax; pays on CPUs with AVX-512 BF16 and on GPUs.</summary>
    Bf16,
    /// <summary>float16; CUDA only (CPU half convolutions are slow or missing).</summary>
    Fp16,
    /// <summary>bf16 where it is measurably faster than fp32 on this machine and gives the same labels (see <see cref="PrecisionProbe"/>), else fp32.</summary>
    Auto,
}

/// <summary>How the engine runs a model. Validated in <see cref="Validate"/>, called by <see cref="InferenceEngine.Create"/>.</summary>
public sealed record InferenceOptions
{
    /// <summary>"auto" (CUDA when TorchSharp reports it, else CPU), "cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; init; } = "auto";
    public InferencePrecision Precision { get; init; } = InferencePrecision.Fp32;
    /// <summary>Fold BatchNorms that directly follow a convolution into it (same outputs within 1e-4, a little faster).</summary>
    public bool FoldBatchNorm { get; init; } = true;
    /// <summary>
    /// Run channels-last (NHWC). On by default and required on CPU with libtorch 2.10 here: NCHW float32 convolutions
    /// with odd channel counts are wrong (see Network/ChannelsLast.cs). Turning it off only matters on CUDA.
    /// </summary>
    public bool ChannelsLast { get; init; } = true;

    public static InferencePrecision ParsePrecision(string text) => text.Trim().ToLowerInvariant() switch
    {
        "fp32" or "float32" => InferencePrecision.Fp32,
        "bf16" or "bfloat16" => InferencePrecision.Bf16,
        "fp16" or "float16" or "half" => InferencePrecision.Fp16,
        "auto" => InferencePrecision.Auto,
        _ => throw new ArgumentException($"unknown precision '{text}': use fp32, bf16, auto or fp16"),
    };

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Device)) throw new ArgumentException("device must be auto, cpu, cuda or cuda:N");
        if (!Enum.IsDefined(Precision)) throw new ArgumentException($"unknown precision {Precision}");
    }
}
