using System.Buffers.Binary;

namespace WsiSegment.Tiling.Slides;

/// <summary>
/// Checks a TIFF's (or BigTIFF's) directory chain against <see cref="SlideLimits"/> before any decoder sees it, reading
/// only headers and offset tables: directory loops, tiles of absurd or zero size, levels larger than the limits,
/// tile tables shorter than the level's grid (a 65535² level with a short array made libvips spin for minutes), image
/// data beyond the end of the file (truncation), levels with no data at all, uncompressed tiles whose sizes do not
/// match the declared sample format, sample formats we cannot read exactly, and all-zero JPEG quantisation tables
/// (those decode without any error, as uniform grey). What may be legitimate (some empty tiles) comes back as a warning.
/// </summary>
public static class TiffPreflight
{
    private const int MaxDirectories = 512;
    private const ushort NdpiMarkerTag = 65420;

    /// <summary>Null for a file that is not TIFF; else the warnings. Throws <see cref="SlideException"/>s naming the file.</summary>
    public static IReadOnlyList<string>? Check(string path, Stream file, SlideLimits limits)
    {
        var r = new Reader(file);
        Span<byte> head = stackalloc byte[16];
        int n = r.ReadAt(0, head);
        if (n < 8 || !(head.StartsWith("II"u8) || head.StartsWith("MM"u8))) return null;
        r.Little = head[0] == (byte)'I';
        ushort magic = r.U16(head[2..]);
        if (magic is not (42 or 43)) return null;
        r.Big = magic == 43;
        if (r.Big && (n < 16 || r.U16(head[4..]) != 8)) throw new CorruptSlideException(path, "corrupt BigTIFF header");
        long ifd = r.Big ? (long)r.U64(head[8..]) : r.U32(head[4..]);
        var visited = new HashSet<long>();
        var warnings = new List<string>();
        int index = 0;
        while (ifd != 0)
        {
            if (ifd < 8 || ifd >= r.Length)
                throw new CorruptSlideException(path, $"truncated or corrupt TIFF: directory {index} at offset {ifd} lies outside the {r.Length}-byte file");
            if (!visited.Add(ifd)) throw new CorruptSlideException(path, $"corrupt TIFF: the directory chain loops back to offset {ifd}");
            if (index >= MaxDirectories) throw new CorruptSlideException(path, $"corrupt TIFF: more than {MaxDirectories} directories");
            var dir = Directory(path, r, ifd, index);
            CheckDirectory(path, r, dir, index, limits, warnings);
            ifd = dir.Next;
            index++;
        }
        if (index == 0) throw new CorruptSlideException(path, "corrupt TIFF: no image directory");
        return warnings;
    }

    private sealed record Dir(long Next, Dictionary<ushort, (ushort Type, long Count, long ValueAt)> Tags);

    private static Dir Directory(string path, Reader r, long at, int index)
    {
        int countSize = r.Big ? 8 : 2, entrySize = r.Big ? 20 : 12, offsetSize = r.Big ? 8 : 4;
        Span<byte> cnt = stackalloc byte[8];
        if (r.ReadAt(at, cnt[..countSize]) < countSize) throw new CorruptSlideException(path, $"truncated TIFF: directory {index} is cut off");
        long entries = r.Big ? (long)r.U64(cnt) : r.U16(cnt);
        if (entries is <= 0 or > 4096) throw new CorruptSlideException(path, $"corrupt TIFF: directory {index} has {entries} entries");
        var table = new byte[entries * entrySize + offsetSize];
        if (r.ReadAt(at + countSize, table) < table.Length) throw new CorruptSlideException(path, $"truncated TIFF: directory {index} is cut off");
        var tags = new Dictionary<ushort, (ushort, long, long)>();
        for (int i = 0; i < entries; i++)
        {
            var e = table.AsSpan(i * entrySize, entrySize);
            ushort tag = r.U16(e), type = r.U16(e[2..]);
            long count = r.Big ? (long)r.U64(e[4..]) : r.U32(e[4..]);
            long valueAt = at + countSize + (long)i * entrySize + (r.Big ? 12 : 8); // inline value position
            int size = TypeSize(type);
            long bytes = size * count;
            if (size > 0 && (count < 0 || bytes > (r.Big ? 8 : 4)))
            {
                valueAt = r.Big ? (long)r.U64(e[12..]) : r.U32(e[8..]);
                if (count > r.Length || valueAt < 0 || valueAt + bytes > r.Length)
                    throw new CorruptSlideException(path, $"truncated or corrupt TIFF: tag {tag} of directory {index} points outside the {r.Length}-byte file");
            }
            tags.TryAdd(tag, (type, count, valueAt));
        }
        var next = table.AsSpan((int)(entries * entrySize), offsetSize);
        return new Dir(r.Big ? (long)r.U64(next) : r.U32(next), tags);
    }

    private static void CheckDirectory(string path, Reader r, Dir dir, int index, SlideLimits limits, List<string> warnings)
    {
        long[]? Values(ushort tag) => dir.Tags.TryGetValue(tag, out var t) ? r.Values(t.Type, t.Count, t.ValueAt) : null;
        long? One(ushort tag) => Values(tag) is { Length: > 0 } v ? v[0] : null;
        string where = $"directory {index}";

        long w = One(256) ?? 0, h = One(257) ?? 0;
        if (w <= 0 || h <= 0) throw new CorruptSlideException(path, $"corrupt TIFF: {where} declares a {w}×{h} image");
        if (w > limits.MaxSide || h > limits.MaxSide || w * h > limits.MaxPixels)
            throw new UnsupportedSlideException(path, $"{where} declares {w}×{h} pixels, more than the limit ({limits.MaxSide} px a side, {limits.MaxPixels / 1e9:0.#} gigapixels): refused before decoding");
        long spp = One(277) ?? 1;
        if (spp is < 1 or > 4) throw new UnsupportedSlideException(path, $"{where} has {spp} samples per pixel; only 1–4 can be read");
        var bits = Values(258) ?? [1];
        if (bits.Any(b => b is not (8 or 16)) || bits.Distinct().Count() > 1)
            throw new UnsupportedSlideException(path, $"{where} has {string.Join("/", bits)}-bit samples; only 8- and 16-bit samples can be read exactly");
        var formats = Values(339);
        if (formats is not null && formats.Any(f => f != 1))
            throw new UnsupportedSlideException(path, $"{where} has {FormatName(formats.First(f => f != 1))} samples; only unsigned integers can be read exactly");
        long bps = bits[0];
        long compression = One(259) ?? 1;
        bool planar = (One(284) ?? 1) == 2;
        bool ndpi = dir.Tags.ContainsKey(NdpiMarkerTag);

        long tw = One(322) ?? 0, th = One(323) ?? 0;
        bool tiled = dir.Tags.ContainsKey(322) || dir.Tags.ContainsKey(323) || dir.Tags.ContainsKey(324);
        long[] offsets, counts;
        long pieces, pieceBytes;
        if (tiled)
        {
            if (tw <= 0 || th <= 0 || tw > limits.MaxTileSide || th > limits.MaxTileSide)
                throw new UnsupportedSlideException(path, $"{where} declares {tw}×{th}-pixel tiles; tiles must be 1–{limits.MaxTileSide} px a side");
            pieces = ((w + tw - 1) / tw) * ((h + th - 1) / th) * (planar ? spp : 1);
            pieceBytes = tw * th * (planar ? 1 : spp) * bps / 8;
            offsets = Values(324) ?? [];
            counts = Values(325) ?? [];
        }
        else
        {
            long rows = Math.Clamp(One(278) ?? h, 1, h);
            pieces = ((h + rows - 1) / rows) * (planar ? spp : 1);
            pieceBytes = w * rows * (planar ? 1 : spp) * bps / 8;
            // NDPI keeps a whole level in one JPEG strip, which OpenSlide reads by restart markers, never whole.
            if (!ndpi && pieceBytes > limits.MaxWholeDecodeBytes)
                throw new UnsupportedSlideException(path, $"{where} stores {w}×{rows}-pixel strips ({pieceBytes >> 20} MiB each decoded), more than the {limits.MaxWholeDecodeBytes >> 20} MiB limit: refused before decoding");
            offsets = Values(273) ?? [];
            counts = Values(279) ?? [];
        }
        string piece = tiled ? "tile" : "strip";
        if (offsets.Length < pieces || counts.Length < pieces)
            throw new CorruptSlideException(path, $"corrupt TIFF: {where} has {Math.Min(offsets.Length, counts.Length)} {piece} offsets/byte counts for its {pieces} {piece}s");
        long empty = 0;
        for (long i = 0; i < pieces; i++)
        {
            long o = offsets[i], c = counts[i];
            if (c == 0) { empty++; continue; }
            if (o < 0 || c < 0 || o + c > r.Length)
                throw new CorruptSlideException(path, $"truncated TIFF: {where}'s {piece} {i} ends at byte {o + c}, beyond the end of the {r.Length}-byte file");
            if (compression == 1)
            {
                long expected = pieceBytes;
                if (!tiled)
                {
                    long rows = Math.Clamp(One(278) ?? h, 1, h), perPlane = (h + rows - 1) / rows;
                    expected = w * Math.Min(rows, h - i % perPlane * rows) * (planar ? 1 : spp) * bps / 8; // the last strip is shorter
                }
                // Padding is harmless; twice the data is a sample format mislabelled (16-bit samples tagged 8-bit).
                if (c < expected || c >= 2 * expected)
                    throw new CorruptSlideException(path, $"corrupt TIFF: {where}'s uncompressed {piece} {i} holds {c} bytes where its {spp}×{bps}-bit samples make {expected}: the sample format is mislabelled or the data cut");
            }
        }
        if (empty == pieces)
            throw new CorruptSlideException(path, $"no pixel data: all {pieces} {piece}s of {where} are empty (zero byte counts)");
        if (empty > 0 && index == 0)
            warnings.Add($"{empty} of {pieces} {piece}s of level 0 ({(double)empty / pieces:P1}) have no data (zero byte counts) and read as background");

        if (compression == 7)
        {
            var tablesTag = dir.Tags.TryGetValue(347, out var jt) ? jt : default;
            byte[]? tables = tablesTag.Count is > 0 and <= 1 << 20 ? r.Bytes(tablesTag.ValueAt, tablesTag.Count) : null;
            long first = Array.FindIndex(counts, 0, (int)pieces, c => c > 0);
            byte[] head = r.Bytes(offsets[first], Math.Min(counts[first], 1 << 16));
            string? bad = JpegQuantisation.FindZeroTable(tables) ?? JpegQuantisation.FindZeroTable(head);
            if (bad is not null) throw new CorruptSlideException(path, $"corrupt JPEG tables in {where}: {bad} (the tiles would decode as flat grey)");
            if (!JpegQuantisation.HasTable(tables) && !JpegQuantisation.HasTable(head))
                throw new CorruptSlideException(path, $"corrupt JPEG tables in {where}: no quantisation table in the JPEG tables or the first {piece}");
        }
    }

    private static string FormatName(long f) => f switch { 2 => "signed integer", 3 => "floating-point", 4 => "untyped", 5 => "complex integer", 6 => "complex floating-point", _ => $"sample format {f}" };

    private static int TypeSize(ushort type) => type switch { 1 or 2 or 6 or 7 => 1, 3 or 8 => 2, 4 or 9 or 11 or 13 => 4, 5 or 10 or 12 or 16 or 17 or 18 => 8, _ => 0 };

    private sealed class Reader(Stream file)
    {
        public bool Little, Big;
        public long Length { get; } = file.Length;

        public int ReadAt(long at, Span<byte> buffer)
        {
            file.Position = at;
            int total = 0;
            while (total < buffer.Length)
            {
                int n = file.Read(buffer[total..]);
                if (n == 0) break;
                total += n;
            }
            return total;
        }

        public byte[] Bytes(long at, long count)
        {
            var b = new byte[Math.Max(0, Math.Min(count, Length - at))];
            ReadAt(at, b);
            return b;
        }

        public long[] Values(ushort type, long count, long at)
        {
            int size = TypeSize(type);
            if (size is not (1 or 2 or 4 or 8) || count <= 0) return [];
            var data = Bytes(at, count * size);
            var values = new long[data.Length / size];
            for (int i = 0; i < values.Length; i++)
            {
                var v = data.AsSpan(i * size, size);
                values[i] = size switch { 1 => v[0], 2 => U16(v), 4 => U32(v), _ => (long)Math.Min(U64(v), long.MaxValue) };
            }
            return values;
        }

        public ushort U16(ReadOnlySpan<byte> b) => Little ? BinaryPrimitives.ReadUInt16LittleEndian(b) : BinaryPrimitives.ReadUInt16BigEndian(b);
        public uint U32(ReadOnlySpan<byte> b) => Little ? BinaryPrimitives.ReadUInt32LittleEndian(b) : BinaryPrimitives.ReadUInt32BigEndian(b);
        public ulong U64(ReadOnlySpan<byte> b) => Little ? BinaryPrimitives.ReadUInt64LittleEndian(b) : BinaryPrimitives.ReadUInt64BigEndian(b);
    }
}
