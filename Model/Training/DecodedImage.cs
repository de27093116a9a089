namespace WsiSegment.Model.Training;

/// <summary>A decoded dataset image: interleaved 8-bit pixels, <see cref="Bands"/> per pixel, row-major.</summary>
public sealed record DecodedImage(byte[] Pixels, int Width, int Height, int Bands);

/// <summary>
/// Decodes one dataset image file (a PNG patch or label map). <paramref name="bands"/> is 3 for RGB patches
/// and 1 for label maps. Implemented outside Model (Processor wires the Tiling reader in): Model decodes no files.
/// Throws an exception whose message names the file when the file is missing or unreadable.
/// </summary>
public delegate DecodedImage ImageFileReader(string path, int bands);
