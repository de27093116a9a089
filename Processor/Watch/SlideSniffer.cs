using System.Buffers.Binary;
using System.Text;

namespace WsiSegment.Processor.Watch;

/// <summary>What the first bytes (and, for TIFF, the directory chain) of a file say it is.</summary>
public sealed record SniffResult(bool IsSlide, string Format, string? Reason)
{
    public static SniffResult Slide(string format) => new(true, format, null);
    public static SniffResult Bad(string format, string reason) => new(false, format, reason);
}

/// <summary>
/// Recognises slide-like files by content, not by name: TIFF and BigTIFF (SVS, NDPI, SCN, BIF, Philips, generic
/// pyramids), JPEG, PNG and MIRAX (.mrxs index + its data folder). For TIFF it also walks the directory chain and
/// checks that every strip and tile lies inside the file, which catches the common truncated copy cheaply; JPEG and
/// PNG must end with their end marker. Decoding errors beyond that are found by the segmenter and reported as corrupt.
/// </summary>
public static class SlideSniffer
{
    private const int MaxIfds = 512;

    public static SniffResult Sniff(string mainPath, string? companionDir = null)
    {
        try
        {
            using var f = new FileStream(mainPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096, FileOptions.RandomAccess);
            long length = f.Length;
            if (length == 0) return SniffResult.Bad("empty", "empty file (0 bytes)");
            Span<byte> head = stackalloc byte[16];
            int n = ReadAt(f, 0, head);
            head = head[..n];
            if (SlideUnit.IsMirax(mainPath)) return SniffMirax(head, companionDir);
            if (n >= 8 && (head.StartsWith("II"u8) || head.StartsWith("MM"u8))) return SniffTiff(f, head, length);
            if (n >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF) return SniffJpeg(f, length);
            if (n >= 8 && head[..8].SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A })) return SniffPng(f, length);
            return SniffResult.Bad(LooksLikeText(head) ? "text" : "unknown", LooksLikeText(head)
                ? "not a slide: a text file"
                : "not a slide: no TIFF, JPEG, PNG or MIRAX signature");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return SniffResult.Bad("unreadable", $"cannot be read ({e.Message})");
        }
    }

    private static SniffResult SniffMirax(ReadOnlySpan<byte> head, string? companionDir)
    {
        var text = head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? head[3..] : head;
        if (!text.StartsWith("[GENERAL]"u8)) return SniffResult.Bad("mirax", "not a MIRAX index: .mrxs does not start with [GENERAL]");
        if (companionDir is null || !Directory.Exists(companionDir))
            return SniffResult.Bad("mirax", "MIRAX data folder missing beside the .mrxs file");
        if (!File.Exists(Path.Combine(companionDir, "Slidedat.ini")))
            return SniffResult.Bad("mirax", "MIRAX data folder has no Slidedat.ini");
        return SniffResult.Slide("mirax");
    }

    private static SniffResult SniffJpeg(FileStream f, long length)
    {
        Span<byte> tail = stackalloc byte[(int)Math.Min(64, length)];
        ReadAt(f, length - tail.Length, tail);
        return tail.IndexOf((ReadOnlySpan<byte>)[0xFF, 0xD9]) >= 0
            ? SniffResult.Slide("jpeg")
            : SniffResult.Bad("jpeg", "truncated JPEG: no end-of-image marker");
    }

    private static SniffResult SniffPng(FileStream f, long length)
    {
        Span<byte> tail = stackalloc byte[(int)Math.Min(64, length)];
        ReadAt(f, length - tail.Length, tail);
        return tail.IndexOf("IEND"u8) >= 0 ? SniffResult.Slide("png") : SniffResult.Bad("png", "truncated PNG: no IEND chunk");
    }

    private static SniffResult SniffTiff(FileStream f, ReadOnlySpan<byte> head, long length)
    {
        bool little = head[0] == (byte)'I';
        if (head[1] != head[0]) return SniffResult.Bad("unknown", "not a slide: bad TIFF byte-order mark");
        ushort magic = U16(head[2..], little);
        bool big = magic == 43;
        if (magic != 42 && !big) return SniffResult.Bad("unknown", "not a slide: bad TIFF magic number");
        string format = big ? "bigtiff" : "tiff";
        if (big && (U16(head[4..], little) != 8 || head.Length < 16)) return SniffResult.Bad(format, "corrupt BigTIFF header");
        long ifd = big ? (long)U64(head[8..], little) : U32(head[4..], little);
        var visited = new HashSet<long>();
        int count = 0;
        while (ifd != 0)
        {
            if (ifd < 8 || ifd >= length) return SniffResult.Bad(format, $"truncated or corrupt TIFF: directory {count} at offset {ifd} lies outside the {length}-byte file");
            if (!visited.Add(ifd) || ++count > MaxIfds) return SniffResult.Bad(format, "corrupt TIFF: directory chain loops");
            var (next, error) = CheckIfd(f, ifd, length, little, big);
            if (error is not null) return SniffResult.Bad(format, $"truncated or corrupt TIFF: directory {count - 1} {error}");
            ifd = next;
        }
        return count == 0 ? SniffResult.Bad(format, "corrupt TIFF: no image directory") : SniffResult.Slide(format);
    }

    /// <summary>Reads one directory; checks that strips/tiles lie inside the file; returns the next directory's offset.</summary>
    private static (long Next, string? Error) CheckIfd(FileStream f, long at, long length, bool little, bool big)
    {
        int countSize = big ? 8 : 2, entrySize = big ? 20 : 12, offsetSize = big ? 8 : 4;
        Span<byte> cnt = stackalloc byte[8];
        if (ReadAt(f, at, cnt[..countSize]) < countSize) return (0, "is cut off");
        long entries = big ? (long)U64(cnt, little) : U16(cnt, little);
        if (entries is <= 0 or > 10_000) return (0, $"has an implausible entry count {entries}");
        long tableEnd = at + countSize + entries * entrySize + offsetSize;
        if (tableEnd > length) return (0, "is cut off");
        var table = new byte[entries * entrySize + offsetSize];
        ReadAt(f, at + countSize, table);

        long[]? offsets = null, counts = null;
        for (int i = 0; i < entries; i++)
        {
            var e = table.AsSpan(i * entrySize, entrySize);
            ushort tag = U16(e, little);
            if (tag is not (273 or 279 or 324 or 325)) continue;
            var values = ReadValues(f, e, little, big, length);
            if (values is null) return (0, $"tag {tag} points outside the file");
            if (tag is 273 or 324) offsets = values; else counts = values;
        }
        if (offsets is not null && counts is not null)
        {
            for (int i = 0; i < Math.Min(offsets.Length, counts.Length); i++)
                if (counts[i] > 0 && offsets[i] + counts[i] > length)
                    return (0, $"has image data up to byte {offsets[i] + counts[i]} beyond the end of the {length}-byte file");
        }
        var nextSpan = table.AsSpan((int)(entries * entrySize), offsetSize);
        return (big ? (long)U64(nextSpan, little) : U32(nextSpan, little), null);
    }

    private static long[]? ReadValues(FileStream f, ReadOnlySpan<byte> entry, bool little, bool big, long length)
    {
        ushort type = U16(entry[2..], little);
        long n = big ? (long)U64(entry[4..], little) : U32(entry[4..], little);
        int size = type switch { 3 => 2, 4 => 4, 16 => 8, 13 => 4, 18 => 8, _ => 0 };
        if (size == 0 || n < 0 || n > 50_000_000) return null;
        long bytes = n * size;
        int inline = big ? 8 : 4;
        byte[] data;
        if (bytes <= inline)
            data = entry.Slice(big ? 12 : 8, (int)bytes).ToArray();
        else
        {
            long at = big ? (long)U64(entry[12..], little) : U32(entry[8..], little);
            if (at < 0 || at + bytes > length) return null;
            data = new byte[bytes];
            ReadAt(f, at, data);
        }
        var values = new long[n];
        for (int i = 0; i < n; i++)
        {
            var v = data.AsSpan(i * size, size);
            values[i] = size switch { 2 => U16(v, little), 4 => U32(v, little), _ => (long)U64(v, little) };
        }
        return values;
    }

    private static int ReadAt(FileStream f, long at, Span<byte> buffer)
    {
        f.Position = at;
        int total = 0;
        while (total < buffer.Length)
        {
            int r = f.Read(buffer[total..]);
            if (r == 0) break;
            total += r;
        }
        return total;
    }

    private static bool LooksLikeText(ReadOnlySpan<byte> head)
    {
        if (head.IsEmpty) return false;
        try
        {
            var s = new UTF8Encoding(false, true).GetString(head.Length > 12 ? head[..12] : head);
            return s.All(c => !char.IsControl(c) || c is '\n' or '\r' or '\t');
        }
        catch (DecoderFallbackException) { return false; }
    }

    private static ushort U16(ReadOnlySpan<byte> b, bool little) => little ? BinaryPrimitives.ReadUInt16LittleEndian(b) : BinaryPrimitives.ReadUInt16BigEndian(b);
    private static uint U32(ReadOnlySpan<byte> b, bool little) => little ? BinaryPrimitives.ReadUInt32LittleEndian(b) : BinaryPrimitives.ReadUInt32BigEndian(b);
    private static ulong U64(ReadOnlySpan<byte> b, bool little) => little ? BinaryPrimitives.ReadUInt64LittleEndian(b) : BinaryPrimitives.ReadUInt64BigEndian(b);
}
