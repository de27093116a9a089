using System.Buffers.Binary;
using System.Text;

namespace WsiSegment.Stitching.Output;

/// <summary>One image of a tiled TIFF: its size, tile edge, where its compressed tiles are, and how it is described.</summary>
internal sealed record TiffDirectory(
    int Width,
    int Height,
    int TileSize,
    long[] TileOffsets,
    long[] TileByteCounts,
    bool Reduced,
    double PixelsPerCm,
    string? Description = null);

/// <summary>
/// A tiled, single-band uint8 TIFF written front to back: compressed tiles are appended as they are made, the
/// directories go at the end (a reader finds them through the header). Tags as libtiff writes them for Adobe
/// deflate with the horizontal predictor; classic TIFF or BigTIFF. Directories either form a page chain (the
/// pyramid layout OpenSlide reads) or the first one lists the rest as SubIFDs (the layout of OME-TIFF pyramids).
/// </summary>
internal sealed class TiledTiffFile : IDisposable
{
    private const ushort Short = 3, Long = 4, Rational = 5, Ascii = 2, Long8 = 16, Ifd = 13, Ifd8 = 18;
    private readonly FileStream _stream;
    private readonly bool _big;
    private readonly string _path;

    public TiledTiffFile(string path, bool bigTiff)
    {
        _path = path;
        _big = bigTiff;
        _stream = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 20);
        Span<byte> header = stackalloc byte[bigTiff ? 16 : 8];
        header[0] = header[1] = (byte)'I';
        if (bigTiff)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(header[2..], 43);
            BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 8); // offset size
        }
        else BinaryPrimitives.WriteUInt16LittleEndian(header[2..], 42);
        _stream.Write(header); // the first-directory offset stays 0 until Finish
    }

    /// <summary>Appends one compressed tile; returns its offset.</summary>
    public long Append(ReadOnlySpan<byte> tile)
    {
        long at = _stream.Position;
        if (!_big && at + tile.Length > uint.MaxValue)
            throw new IOException($"{_path}: passed 4 GB as a classic TIFF (BigTIFF is chosen from the uncompressed size)");
        _stream.Write(tile);
        return at;
    }

    /// <summary>Writes the directories after the tiles and points the header at the first.</summary>
    public void Finish(IReadOnlyList<TiffDirectory> directories, bool asSubIfds)
    {
        long start = Align(_stream.Position);
        var offsets = new long[directories.Count];
        long at = start;
        for (int i = 0; i < directories.Count; i++)
        {
            offsets[i] = at;
            // A directory's size does not depend on the offsets in it: placeholders measure it.
            long[] placeholders = asSubIfds && i == 0 ? new long[directories.Count - 1] : [];
            at = Align(at + Serialise(directories[i], at, 0, placeholders).Length);
        }
        if (!_big && at > uint.MaxValue) throw new IOException($"{_path}: directories passed 4 GB as a classic TIFF");
        for (int i = 0; i < directories.Count; i++)
        {
            // Pages chain from one to the next; each SubIFD stands alone (next 0), as libtiff and libvips write them.
            long next = !asSubIfds && i + 1 < directories.Count ? offsets[i + 1] : 0;
            long[] subIfds = asSubIfds && i == 0 ? offsets[1..] : [];
            var bytes = Serialise(directories[i], offsets[i], next, subIfds);
            _stream.Position = offsets[i];
            _stream.Write(bytes);
        }
        _stream.Position = _big ? 8 : 4;
        Span<byte> first = stackalloc byte[8];
        if (_big) BinaryPrimitives.WriteInt64LittleEndian(first, offsets[0]);
        else BinaryPrimitives.WriteUInt32LittleEndian(first, (uint)offsets[0]);
        _stream.Write(first[..(_big ? 8 : 4)]);
        _stream.Flush(flushToDisk: false);
    }

    public void Dispose() => _stream.Dispose();

    private static long Align(long offset) => (offset + 7) & ~7L;

    private byte[] Serialise(TiffDirectory d, long at, long next, long[] subIfds)
    {
        ushort offsetType = _big ? Long8 : Long;
        var entries = new List<Entry>
        {
            Entry.Of(254, Long, d.Reduced ? 1 : 0),
            Entry.Of(256, Long, d.Width),
            Entry.Of(257, Long, d.Height),
            Entry.Of(258, Short, 8),
            Entry.Of(259, Short, 8), // Adobe deflate
            Entry.Of(262, Short, 1), // min-is-black
        };
        if (d.Description is { } text) entries.Add(new Entry(270, Ascii, Encoding.UTF8.GetByteCount(text) + 1, AsciiBytes(text)));
        entries.Add(Entry.Of(277, Short, 1));
        entries.Add(new Entry(282, Rational, 1, RationalBytes(d.PixelsPerCm)));
        entries.Add(new Entry(283, Rational, 1, RationalBytes(d.PixelsPerCm)));
        entries.Add(Entry.Of(284, Short, 1)); // contiguous
        entries.Add(Entry.Of(296, Short, 3)); // centimetre
        entries.Add(Entry.Of(317, Short, 2)); // horizontal differencing
        entries.Add(Entry.Of(322, Long, d.TileSize));
        entries.Add(Entry.Of(323, Long, d.TileSize));
        entries.Add(new Entry(324, offsetType, d.TileOffsets.Length, OffsetBytes(d.TileOffsets)));
        entries.Add(new Entry(325, offsetType, d.TileByteCounts.Length, OffsetBytes(d.TileByteCounts)));
        if (subIfds.Length > 0)
            entries.Add(new Entry(330, _big ? Ifd8 : Ifd, subIfds.Length, OffsetBytes(subIfds)));
        entries.Add(Entry.Of(339, Short, 1)); // unsigned integer

        int inline = _big ? 8 : 4, entrySize = _big ? 20 : 12, countSize = _big ? 8 : 2;
        long tableLength = countSize + entries.Count * entrySize + (_big ? 8 : 4);
        long dataAt = at + tableLength;
        using var table = new MemoryStream();
        using var data = new MemoryStream();
        Span<byte> buf = stackalloc byte[20];
        if (_big) { BinaryPrimitives.WriteUInt64LittleEndian(buf, (ulong)entries.Count); table.Write(buf[..8]); }
        else { BinaryPrimitives.WriteUInt16LittleEndian(buf, (ushort)entries.Count); table.Write(buf[..2]); }
        foreach (var e in entries)
        {
            buf.Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(buf, e.Tag);
            BinaryPrimitives.WriteUInt16LittleEndian(buf[2..], e.Type);
            if (_big) BinaryPrimitives.WriteUInt64LittleEndian(buf[4..], (ulong)e.Count);
            else BinaryPrimitives.WriteUInt32LittleEndian(buf[4..], (uint)e.Count);
            var value = buf.Slice(_big ? 12 : 8, inline);
            if (e.Value.Length <= inline) e.Value.CopyTo(value);
            else
            {
                while (data.Length % 8 != 0) data.WriteByte(0);
                long where = dataAt + data.Length;
                if (_big) BinaryPrimitives.WriteInt64LittleEndian(value, where);
                else BinaryPrimitives.WriteUInt32LittleEndian(value, checked((uint)where));
                data.Write(e.Value);
            }
            table.Write(buf[..entrySize]);
        }
        buf.Clear();
        if (_big) BinaryPrimitives.WriteInt64LittleEndian(buf, next);
        else BinaryPrimitives.WriteUInt32LittleEndian(buf, (uint)next);
        table.Write(buf[..(_big ? 8 : 4)]);
        data.Position = 0;
        data.CopyTo(table);
        return table.ToArray();
    }

    private byte[] OffsetBytes(long[] values)
    {
        var bytes = new byte[values.Length * (_big ? 8 : 4)];
        for (int i = 0; i < values.Length; i++)
        {
            if (_big) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), values[i]);
            else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), checked((uint)values[i]));
        }
        return bytes;
    }

    private static byte[] AsciiBytes(string text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }

    /// <summary>A rational with a denominator of 1000: exact for whole and millesimal pixels per centimetre.</summary>
    private static byte[] RationalBytes(double value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, checked((uint)Math.Round(value * 1000)));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 1000);
        return bytes;
    }

    private sealed record Entry(ushort Tag, ushort Type, long Count, byte[] Value)
    {
        /// <summary>A single SHORT or LONG value.</summary>
        public static Entry Of(ushort tag, ushort type, long value)
        {
            var bytes = new byte[type == Short ? 2 : 4];
            if (type == Short) BinaryPrimitives.WriteUInt16LittleEndian(bytes, checked((ushort)value));
            else BinaryPrimitives.WriteUInt32LittleEndian(bytes, checked((uint)value));
            return new Entry(tag, type, 1, bytes);
        }
    }
}
