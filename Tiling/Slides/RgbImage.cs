using NetVips;

namespace WsiSegment.Tiling.Slides;

/// <summary>
/// The one conversion of any libvips image to what the tool reads: 3-band 8-bit sRGB. Slide levels, associated images,
/// training patches and <c>predict</c>'s inputs all come through here, so transparency and grey mean the same everywhere.
/// </summary>
public static class RgbImage
{
    /// <summary>
    /// A new lazy 3-band uchar sRGB image of <paramref name="image"/> (which stays the caller's), in this order:
    /// <list type="number">
    /// <item>colour spaces other than RGB and grey (CMYK, Lab, XYZ, scRGB, …) are converted to sRGB;</item>
    /// <item>16-bit samples are scaled to 8 bits (the high byte), other formats are cast (clipped to 0–255);</item>
    /// <item>with 2 bands (grey + alpha) or 4 (RGB + alpha) the last band is alpha, flattened onto white — OpenSlide's
    /// "no data" and a PNG's transparency are background, not black;</item>
    /// <item>grey is replicated into three bands; of more than three bands, the first three are kept.</item>
    /// </list>
    /// A 3-band uchar sRGB image passes unchanged (as a new reference).
    /// </summary>
    public static Image ToRgb8(Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var chain = new VipsChain();
        Image current = image;
        if (NeedsColourConversion(current.Interpretation))
            current = chain.Add(current.Colourspace(Enums.Interpretation.Srgb));
        if (current.Format == Enums.BandFormat.Ushort)
            current = chain.Add(chain.Add(current >> 8).Cast(Enums.BandFormat.Uchar));
        else if (current.Format != Enums.BandFormat.Uchar)
            current = chain.Add(current.Cast(Enums.BandFormat.Uchar));
        if (current.Bands is 2 or 4)
            // The samples are 8-bit now whatever the interpretation says (RGB16 would make libvips assume 65535).
            current = chain.Add(current.Flatten(background: Enumerable.Repeat(255.0, current.Bands - 1).ToArray(), maxAlpha: 255));
        if (current.Bands == 1)
            current = chain.Add(current.Bandjoin(current, current));
        else if (current.Bands > 3)
            current = chain.Add(current.ExtractBand(0, n: 3));
        if (current.Interpretation != Enums.Interpretation.Srgb)
            current = chain.Add(current.Copy(interpretation: Enums.Interpretation.Srgb));
        return ReferenceEquals(current, image) ? image.Copy() : chain.Keep(current);
    }

    private static bool NeedsColourConversion(Enums.Interpretation interpretation) => interpretation is
        Enums.Interpretation.Cmyk or Enums.Interpretation.Lab or Enums.Interpretation.Labq or Enums.Interpretation.Labs or
        Enums.Interpretation.Lch or Enums.Interpretation.Cmc or Enums.Interpretation.Xyz or Enums.Interpretation.Yxy or
        Enums.Interpretation.Scrgb or Enums.Interpretation.Hsv;
}
