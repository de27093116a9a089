using System.Security.Cryptography;

namespace WsiSegment.Processor.Segmentation;

/// <summary>SHA-256 of a file, streamed (slides are many GB), as lowercase hex.</summary>
public static class FileHash
{
    public static async Task<string> Sha256Async(string path, CancellationToken ct)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan | FileOptions.Asynchronous);
        var hash = await SHA256.HashDataAsync(stream, ct);
        return Convert.ToHexStringLower(hash);
    }
}
