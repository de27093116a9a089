using WsiSegment.Core.Classes;

namespace WsiSegment.Stitching.Output;

/// <summary>Which pyramidal TIFFs <see cref="PyramidWriter"/> writes.</summary>
[Flags]
public enum MaskOutputs
{
    None = 0,
    /// <summary>X.mask.tif: labels, page pyramid (OpenSlide, ASAP).</summary>
    Mask = 1,
    /// <summary>X.mask.ome.tif: labels, SubIFD pyramid with OME-XML (QuPath/Bio-Formats).</summary>
    OmeMask = 2,
    /// <summary>X.overlay.tif: RGB class colours, page pyramid (any viewer).</summary>
    Overlay = 4,
    All = Mask | OmeMask | Overlay,
}

/// <summary>Lossless codecs for the label masks (always with the horizontal predictor).</summary>
public enum MaskCompression { Deflate, Lzw, Zstd }

/// <summary>Codecs for the colour overlay.</summary>
public enum OverlayCompression { Jpeg, Deflate }

/// <summary>How label images become pyramidal TIFFs. Validated by <see cref="Validate"/> (called by the writer).</summary>
public sealed record MaskOutputOptions
{
    /// <summary>Micrometres per pixel of the label image (the analysis resolution).</summary>
    public required double Mpp { get; init; }

    /// <summary>Class names and colours, indexed by label value.</summary>
    public required ClassTable Classes { get; init; }

    public MaskOutputs Outputs { get; init; } = MaskOutputs.All;
    public MaskCompression Compression { get; init; } = MaskCompression.Deflate;
    public OverlayCompression OverlayCompression { get; init; } = OverlayCompression.Jpeg;
    public int JpegQuality { get; init; } = 85;

    /// <summary>TIFF tile edge in pixels (multiple of 16).</summary>
    public int TileSize { get; init; } = 512;

    /// <summary>BigTIFF: null = when the uncompressed pyramid would pass 2 GiB; true/false to force.</summary>
    public bool? BigTiff { get; init; }

    /// <summary>Name written into the OME-XML Image element.</summary>
    public string ImageName { get; init; } = "labels";

    public void Validate()
    {
        if (!double.IsFinite(Mpp) || Mpp <= 0) throw new ArgumentOutOfRangeException(nameof(Mpp), Mpp, "MPP must be a positive number of µm per pixel");
        ArgumentNullException.ThrowIfNull(Classes);
        if (TileSize < 16 || TileSize % 16 != 0) throw new ArgumentOutOfRangeException(nameof(TileSize), TileSize, "TIFF tiles must be a positive multiple of 16");
        if (JpegQuality is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(JpegQuality), JpegQuality, "JPEG quality is 1..100");
        if (Outputs == MaskOutputs.None) throw new ArgumentException("no outputs selected", nameof(Outputs));
    }
}

/// <summary>The files a <see cref="PyramidWriter"/> run produced (null where not requested).</summary>
public sealed record MaskOutputFiles(string? Mask, string? OmeMask, string? Overlay);
