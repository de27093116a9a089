using WsiSegment.Core.Blending;

namespace WsiSegment.Core.Defaults;

/// <summary>The defaults of a segmentation, in one place: the options record, the command line (`segment`, `watch`,
/// `bench pipeline`, `cluster submit`) and the libraries' own option records start from these.</summary>
public static class SegmentDefaults
{
    /// <summary>Tile side in analysis pixels: ((1024 − 128) / 1024)² = 77 % of computed pixels are unique.</summary>
    public const int Tile = 1024;

    /// <summary>Pixels neighbouring tiles share.</summary>
    public const int Overlap = 128;

    /// <summary>Tiles per forward pass.</summary>
    public const int BatchSize = 1;

    public const BlendMode Blend = BlendMode.Gaussian;

    /// <summary>
    /// A tile runs when at least this fraction of its in-image area (overlap included) is tissue; the others are
    /// labelled background. 0.02 (about 21,000 px of a 1024² tile): what the tool has always run and every figure in
    /// the README was measured with. 0.01, once argued for to keep slivers of tissue at tile corners, would also run
    /// the tiles holding 1–2 % tissue; with nothing measured in its favour, the value that ran and was measured stays.
    /// </summary>
    public const double MinTissueFraction = 0.02;

    /// <summary>Objects smaller than this (µm²) are dropped from the tissue mask.</summary>
    public const double MinTissueObjectUm2 = 5_000;

    public const string Device = "auto";
    public const string Precision = "fp32";

    /// <summary>CPU threads for inference; 0 = all cores (under Slurm: the task's CPUs).</summary>
    public const int Threads = 0;
}
