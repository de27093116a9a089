using System.IO.Compression;
using System.Runtime.InteropServices;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Model.Parity;

/// <summary>The files of ../shared/espnet-reference (raw little-endian arrays, some gzipped).</summary>
internal static class ReferenceData
{
    public static string File(string name) => Repo.SharedFile("espnet-reference", name);

    public static byte[] Bytes(string name)
    {
        var path = File(name);
        if (!name.EndsWith(".gz", StringComparison.Ordinal)) return System.IO.File.ReadAllBytes(path);
        using var gz = new GZipStream(System.IO.File.OpenRead(path), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }

    public static float[] Floats(string name) => MemoryMarshal.Cast<byte, float>(Bytes(name)).ToArray();

    public const string Frame = "frankfurt_000000_000294";
}
