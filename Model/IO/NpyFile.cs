using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace WsiSegment.Model.IO;

/// <summary>
/// NumPy .npy files of little-endian float32 in C order: enough to exchange tensors with Python for parity checks.
/// Format: "\x93NUMPY", version, header length, a Python dict literal {'descr', 'fortran_order', 'shape'} padded
/// with spaces and a newline so the data starts at a multiple of 64, then the raw data.
/// </summary>
public static partial class NpyFile
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static void WriteFloat32(string path, ReadOnlySpan<float> data, long[] shape)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (count != data.Length) throw new ArgumentException($"{data.Length} values for shape ({string.Join(", ", shape)})");
        string shapeText = shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {shapeText}, }}";
        int unpadded = Magic.Length + 2 + 2 + dict.Length + 1;
        int padding = (64 - unpadded % 64) % 64;
        string header = dict + new string(' ', padding) + "\n";
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        stream.Write(Magic);
        stream.WriteByte(1);
        stream.WriteByte(0);
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, checked((ushort)header.Length));
        stream.Write(len);
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(MemoryMarshal.AsBytes(data));
    }

    /// <summary>Reads a little-endian float32, C-order .npy file. Errors name the file.</summary>
    public static (float[] Data, long[] Shape) ReadFloat32(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic))
            throw new InvalidDataException($"{path}: not a NumPy .npy file");
        int major = bytes[6];
        int headerLength, headerStart;
        if (major == 1) { headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)); headerStart = 10; }
        else if (major is 2 or 3 && bytes.Length >= 12) { headerLength = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8))); headerStart = 12; }
        else throw new InvalidDataException($"{path}: unsupported .npy version {major}");
        if (headerStart + headerLength > bytes.Length) throw new InvalidDataException($"{path}: truncated .npy header");
        string header = Encoding.Latin1.GetString(bytes, headerStart, headerLength);
        var descr = DescrPattern().Match(header);
        if (!descr.Success || descr.Groups[1].Value is not ("<f4" or "=f4"))
            throw new InvalidDataException($"{path}: only little-endian float32 (<f4) .npy is supported, found {(descr.Success ? descr.Groups[1].Value : "no descr")}");
        if (FortranPattern().Match(header) is { Success: true } f && f.Groups[1].Value == "True")
            throw new InvalidDataException($"{path}: Fortran-order arrays are not supported (save with np.ascontiguousarray)");
        var shapeMatch = ShapePattern().Match(header);
        if (!shapeMatch.Success) throw new InvalidDataException($"{path}: .npy header has no shape");
        var shape = shapeMatch.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(long.Parse).ToArray();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        int dataStart = headerStart + headerLength;
        if (bytes.Length - dataStart != count * 4)
            throw new InvalidDataException($"{path}: {bytes.Length - dataStart} data bytes for shape ({string.Join(", ", shape)}), expected {count * 4} (truncated?)");
        var data = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(dataStart)).ToArray();
        return (data, shape);
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
