using System.Buffers.Binary;

namespace WsiSegment.Tests.Corpus;

/// <summary>Just enough of classic TIFF to patch a real file's directories for the bad-input corpus.</summary>
internal static class Tiff
{
    public sealed record Entry(ushort Tag, ushort Type, uint Count, int Position);

    private static bool Little(byte[] d) => d[0] == (byte)'I';
    private static ushort U16(byte[] d, int at) => Little(d) ? BinaryPrimitives.ReadUInt16LittleEndian(d.AsSpan(at)) : BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(at));
    private static uint U32(byte[] d, int at) => Little(d) ? BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(at)) : BinaryPrimitives.ReadUInt32BigEndian(d.AsSpan(at));
    private static void W16(byte[] d, int at, ushort v) { if (Little(d)) BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(at), v); else BinaryPrimitives.WriteUInt16BigEndian(d.AsSpan(at), v); }
    private static void W32(byte[] d, int at, uint v) { if (Little(d)) BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(at), v); else BinaryPrimitives.WriteUInt32BigEndian(d.AsSpan(at), v); }

    public static int IfdOffset(byte[] d, int index)
    {
        int at = (int)U32(d, 4);
        for (int i = 0; i < index; i++) at = (int)U32(d, at + 2 + U16(d, at) * 12);
        return at;
    }

    public static int Count(byte[] d)
    {
        int n = 0;
        for (long at = U32(d, 4); at != 0 && n < 64; n++) at = U32(d, (int)at + 2 + U16(d, (int)at) * 12);
        return n;
    }

    public static List<Entry> Entries(byte[] d, int index)
    {
        int at = IfdOffset(d, index), n = U16(d, at);
        return Enumerable.Range(0, n).Select(i => at + 2 + i * 12).Select(p => new Entry(U16(d, p), U16(d, p + 2), U32(d, p + 4), p)).ToList();
    }

    /// <summary>Offset and byte count of the first tile (or strip) of a directory.</summary>
    public static (int Offset, int Bytes) FirstPiece(byte[] d, int index)
    {
        var e = Entries(d, index);
        var offsets = e.First(x => x.Tag is 324 or 273);
        var counts = e.First(x => x.Tag is 325 or 279);
        return ((int)Value(d, offsets, 0), (int)Value(d, counts, 0));
    }

    private static int ValuesAt(byte[] d, Entry e) => e.Count * Size(e.Type) <= 4 ? e.Position + 8 : (int)U32(d, e.Position + 8);
    private static int Size(ushort type) => type switch { 3 => 2, 4 => 4, 1 or 7 => 1, _ => 4 };

    private static long Value(byte[] d, Entry e, int i) => Size(e.Type) == 2 ? U16(d, ValuesAt(d, e) + 2 * i) : U32(d, ValuesAt(d, e) + 4 * i);

    /// <summary>Sets every value of a SHORT or LONG tag to <paramref name="value"/> (LONG tags take it whole, SHORT ones truncated).</summary>
    public static byte[] WithValues(byte[] src, int index, ushort tag, long value)
    {
        var d = (byte[])src.Clone();
        var e = Entries(d, index).First(x => x.Tag == tag);
        int at = ValuesAt(d, e);
        if (Size(e.Type) == 2 && value > ushort.MaxValue)
        {
            // Widen the entry to LONG when the value needs it (only single-valued, inline tags).
            W16(d, e.Position + 2, 4);
            W32(d, e.Position + 8, (uint)value);
            return d;
        }
        for (int i = 0; i < e.Count; i++)
            if (Size(e.Type) == 2) W16(d, at + 2 * i, (ushort)value); else W32(d, at + 4 * i, (uint)value);
        return d;
    }

    public static byte[] WithArray(byte[] src, int index, ushort tag, ushort value) => WithValues(src, index, tag, value);

    public static byte[] WithNextIfd(byte[] src, int index, int next)
    {
        var d = (byte[])src.Clone();
        int at = IfdOffset(d, index);
        W32(d, at + 2 + U16(d, at) * 12, (uint)next);
        return d;
    }

    /// <summary>Zeroes the 64 entries of every quantisation table in every directory's JPEGTables.</summary>
    public static byte[] WithZeroQuantisation(byte[] src)
    {
        var d = (byte[])src.Clone();
        for (int i = 0; i < Count(d); i++)
        {
            var e = Entries(d, i).FirstOrDefault(x => x.Tag == 347);
            if (e is null) continue;
            int at = ValuesAt(d, e), end = at + (int)e.Count;
            for (int p = at + 2; p + 4 < end;)
            {
                int len = (d[p + 2] << 8) | d[p + 3];
                if (d[p + 1] == 0xDB)
                    for (int q = p + 4; q + 65 <= p + 2 + len; q += 65) Array.Clear(d, q + 1, 64);
                p += 2 + len;
            }
        }
        return d;
    }
}
