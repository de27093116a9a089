using NetVips;

namespace WsiSegment.Tiling.Tissue;

/// <summary>
/// A low-resolution binary tissue mask (255 tissue, 0 background), row-major. Mask pixel (i, j) covers analysis
/// pixels [i·s, (i+1)·s) × [j·s, (j+1)·s) with s = <see cref="ScaleToAnalysis"/>, restricted to the analysis image.
/// </summary>
public sealed class TissueMask
{
    public TissueMask(byte[] pixels, int width, int height, double mpp, double scaleToAnalysis, int analysisWidth, int analysisHeight,
        bool mppIsNominal = false, TissueBackground background = TissueBackground.Bright)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (width < 1 || height < 1 || pixels.Length != width * height)
            throw new ArgumentException($"mask of {width}x{height} needs {width * height} bytes, got {pixels.Length}", nameof(pixels));
        if (!(scaleToAnalysis > 0)) throw new ArgumentOutOfRangeException(nameof(scaleToAnalysis), scaleToAnalysis, "must be positive");
        Pixels = pixels;
        Width = width;
        Height = height;
        Mpp = mpp;
        ScaleToAnalysis = scaleToAnalysis;
        AnalysisWidth = analysisWidth;
        AnalysisHeight = analysisHeight;
        MppIsNominal = mppIsNominal;
        Background = background;
        TissuePixels = pixels.Count(p => p != 0);
    }

    public byte[] Pixels { get; }
    public int Width { get; }
    public int Height { get; }

    /// <summary>µm per mask pixel (nominal when the slide's MPP is unknown, see <see cref="MppIsNominal"/>).</summary>
    public double Mpp { get; }
    public bool MppIsNominal { get; }

    /// <summary>Analysis pixels per mask pixel.</summary>
    public double ScaleToAnalysis { get; }
    public int AnalysisWidth { get; }
    public int AnalysisHeight { get; }

    /// <summary>Which background the detector assumed (bright for brightfield, dark for fluorescence).</summary>
    public TissueBackground Background { get; }

    public int TissuePixels { get; }
    public double TissueAreaUm2 => TissuePixels * Mpp * Mpp;
    public double TissueAreaMm2 => TissueAreaUm2 / 1e6;

    /// <summary>
    /// Share of tissue in the analysis-space rectangle [x, x+w) × [y, y+h), clipped to the analysis image
    /// (padding outside the image counts neither way). Mask pixels are weighted by their overlap. 0 for an empty clip.
    /// </summary>
    public double Fraction(int x, int y, int w, int h)
    {
        double x0 = Math.Max(0, x), y0 = Math.Max(0, y);
        double x1 = Math.Min(AnalysisWidth, (double)x + w), y1 = Math.Min(AnalysisHeight, (double)y + h);
        if (x1 <= x0 || y1 <= y0) return 0;
        double s = ScaleToAnalysis;
        // Rectangle in mask units.
        double u0 = x0 / s, u1 = x1 / s, v0 = y0 / s, v1 = y1 / s;
        int i0 = Math.Max(0, (int)Math.Floor(u0)), i1 = Math.Min(Width, (int)Math.Ceiling(u1));
        int j0 = Math.Max(0, (int)Math.Floor(v0)), j1 = Math.Min(Height, (int)Math.Ceiling(v1));
        double tissue = 0;
        for (int j = j0; j < j1; j++)
        {
            double wy = Math.Min(j + 1, v1) - Math.Max(j, v0);
            if (wy <= 0) continue;
            int row = j * Width;
            double rowSum = 0;
            for (int i = i0; i < i1; i++)
            {
                if (Pixels[row + i] == 0) continue;
                rowSum += Math.Min(i + 1, u1) - Math.Max(i, u0);
            }
            tissue += rowSum * wy;
        }
        return Math.Clamp(tissue / ((u1 - u0) * (v1 - v0)), 0, 1);
    }

    /// <summary>Writes the mask as a greyscale PNG (white tissue on black) for a person to inspect.</summary>
    public void SavePng(string path)
    {
        using var image = Image.NewFromMemory(Pixels, Width, Height, 1, Enums.BandFormat.Uchar);
        image.Pngsave(path);
    }
}
