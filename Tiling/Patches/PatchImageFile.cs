using NetVips;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Tiling.Patches;

/// <summary>Pixels of a small image file: interleaved bytes, <see cref="Bands"/> per pixel, row-major.</summary>
public sealed record PatchPixels(byte[] Pixels, int Width, int Height, int Bands);

/// <summary>
/// Reads and writes the small 8-bit images of a patch dataset (PNG patches and label maps) through libvips,
/// failing on the first decode error. Errors are <see cref="InvalidDataException"/> naming the file.
/// </summary>
public static class PatchImageFile
{
    /// <summary>Decodes a whole image. <paramref name="bands"/> 3 converts to RGB (<see cref="RgbImage.ToRgb8"/>: alpha
    /// flattened onto white, grey expanded); 1 requires a single-band 8-bit image (a label map); 0 keeps what an 8-bit file has.</summary>
    public static PatchPixels Read(string path, int bands = 0)
    {
        VipsSetup.EnsureInitialised();
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
        try
        {
            using var loaded = Image.NewFromFile(path, access: Enums.Access.Sequential, failOn: Enums.FailOn.Error);
            if (bands == 3)
            {
                using var rgb = RgbImage.ToRgb8(loaded);
                return new PatchPixels(rgb.WriteToMemory<byte>(), rgb.Width, rgb.Height, rgb.Bands);
            }
            if (loaded.Format != Enums.BandFormat.Uchar)
                throw new InvalidDataException($"{path}: expected 8-bit pixels, found {loaded.Format}");
            if (bands == 1 && loaded.Bands != 1)
                throw new InvalidDataException($"{path}: expected a single-band label image, found {loaded.Bands} bands");
            return new PatchPixels(loaded.WriteToMemory<byte>(), loaded.Width, loaded.Height, loaded.Bands);
        }
        catch (VipsException e)
        {
            throw new InvalidDataException($"{path}: cannot decode ({VipsSetup.Clean(e.Message)})", e);
        }
    }

    /// <summary>Writes interleaved 8-bit pixels as a PNG (lossless; label ids survive exactly).</summary>
    public static void WritePng(string path, ReadOnlySpan<byte> pixels, int width, int height, int bands)
    {
        VipsSetup.EnsureInitialised();
        if (pixels.Length != (long)width * height * bands)
            throw new ArgumentException($"{pixels.Length} bytes is not {width}x{height}x{bands}", nameof(pixels));
        using var image = Image.NewFromMemory(pixels.ToArray(), width, height, bands, Enums.BandFormat.Uchar);
        image.Pngsave(path, compression: 1);
    }
}
