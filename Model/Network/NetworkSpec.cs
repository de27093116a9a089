namespace WsiSegment.Model.Network;

/// <summary>What a network is: architecture, classes and the depth multipliers p and q. Validated on construction of a network.</summary>
public readonly record struct NetworkSpec(ModelArchitecture Architecture, int Classes, int P = 2, int Q = 8)
{
    /// <summary>
    /// Branches of the decoder's last ESP block (the one with <see cref="Classes"/> output channels): the paper's 5, or
    /// one per class below 5 classes. Recorded in the model card as <c>decoder_esp_branches</c>; null for ESPNet-C.
    /// </summary>
    public int? DecoderBranches => Architecture == ModelArchitecture.EspNet ? EspBranches.Count(Classes) : null;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for a spec no network can be built from.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Architecture)) throw new ArgumentOutOfRangeException(nameof(Architecture), Architecture, "unknown architecture");
        // Below 5 classes the decoder's last ESP block has one branch per class channel (see EspBranches).
        if (Classes < 2) throw new ArgumentOutOfRangeException(nameof(Classes), Classes, "at least 2 classes");
        if (Classes > 255) throw new ArgumentOutOfRangeException(nameof(Classes), Classes, "at most 255 classes (labels are bytes)");
        if (P < 1) throw new ArgumentOutOfRangeException(nameof(P), P, "depth multiplier p must be at least 1");
        if (Q < 1) throw new ArgumentOutOfRangeException(nameof(Q), Q, "depth multiplier q must be at least 1");
    }
}
