using NetVips;

namespace WsiSegment.Tiling.Labels;

/// <summary>How far two label masks of the same size agree: the fraction of pixels with the same label.</summary>
public static class LabelAgreement
{
    public static double Fraction(string pathA, string pathB)
    {
        using var a = LabelImage.Open(pathA);
        using var b = LabelImage.Open(pathB);
        if (a.Width != b.Width || a.Height != b.Height)
            throw new LabelFileException(pathB, $"is {b.Width}x{b.Height}, {pathA} is {a.Width}x{a.Height}: masks of different sizes do not compare");
        // Streams both in strips: equal → 255, else 0; the mean over 255 is the agreeing fraction.
        using var same = a.Image.Equal(b.Image);
        return same.Avg() / 255.0;
    }
}
