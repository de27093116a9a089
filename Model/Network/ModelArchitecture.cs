namespace WsiSegment.Model.Network;

/// <summary>The two networks of Mehta et al. (ECCV 2018): the encoder alone (ESPNet-C, 1/8-resolution output) and the full ESPNet.</summary>
public enum ModelArchitecture
{
    /// <summary>ESPNet-C: the encoder with a 1×1 classifier; logits at 1/8 of the input size.</summary>
    EspNetC,

    /// <summary>ESPNet: ESPNet-C plus the light-weight reduce-upsample-merge decoder; logits at the input size.</summary>
    EspNet,
}

public static class ModelArchitectures
{
    /// <summary>The command-line / model-card spelling: "espnet" or "espnet-c".</summary>
    public static string Name(this ModelArchitecture arch) => arch switch
    {
        ModelArchitecture.EspNet => "espnet",
        ModelArchitecture.EspNetC => "espnet-c",
        _ => throw new ArgumentOutOfRangeException(nameof(arch), arch, null),
    };

    /// <summary>Parses "espnet" or "espnet-c" (case-insensitive; "espnetc" accepted).</summary>
    public static ModelArchitecture Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "espnet" => ModelArchitecture.EspNet,
        "espnet-c" or "espnetc" or "espnet_c" => ModelArchitecture.EspNetC,
        _ => throw new ArgumentException($"unknown architecture '{name}': use espnet or espnet-c"),
    };

    /// <summary>Output stride: ESPNet-C predicts at 1/8 of the input, ESPNet at full size.</summary>
    public static int OutputStride(this ModelArchitecture arch) => arch == ModelArchitecture.EspNetC ? 8 : 1;
}
