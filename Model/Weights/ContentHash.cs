using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace WsiSegment.Model.Weights;

/// <summary>
/// "sha256:…" of a set of weights: for each tensor in ordinal name order, its name, dtype, shape and raw bytes.
/// <c>num_batches_tracked</c> is left out (it does not change outputs and released checkpoints lack it), so the
/// hash of imported weights equals the hash of the checkpoint made from them.
/// </summary>
public static class ContentHash
{
    public static string Of(IEnumerable<SafetensorsTensor> tensors)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> number = stackalloc byte[8];
        foreach (var t in tensors.Where(t => !t.Name.EndsWith("num_batches_tracked", StringComparison.Ordinal))
                                 .OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(t.Name + "\0" + t.Dtype + "\0"));
            foreach (var d in t.Shape)
            {
                BinaryPrimitives.WriteInt64LittleEndian(number, d);
                sha.AppendData(number);
            }
            sha.AppendData(t.Data);
        }
        return "sha256:" + Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
