using System.IO.Compression;
using System.Numerics;

namespace WsiSegment.Stitching.Output;

/// <summary>
/// Streams a uint8 label spool into a tiled pyramid: one band of tile rows per level in memory, each full band
/// cut into tiles (horizontal predictor, deflate, in parallel) and halved by a 2×2 mode into the next level's band.
/// Every tile is compressed once and appended to all target files, so the page-pyramid mask and the OME-TIFF
/// share the work. Levels halve (rounding down, as libvips does) until one fits in a single tile.
/// </summary>
internal sealed class LabelPyramidEncoder
{

    /// <summary>zlib level 4: labels compress to about libvips' default size (level 6) at about half the CPU of level 6.</summary>
    private const int ZlibLevel = 4;
    private readonly int _tile;
    private readonly IReadOnlyList<TiledTiffFile> _files;
    private readonly Level[] _levels;

    private LabelPyramidEncoder(int width, int height, int tile, IReadOnlyList<TiledTiffFile> files)
    {
        _tile = tile;
        _files = files;
        _levels = LevelSizes(width, height, tile).Select(s => new Level(s.Width, s.Height, tile)).ToArray();
    }

    public static IReadOnlyList<(int Width, int Height)> LevelSizes(int width, int height, int tile)
    {
        var sizes = new List<(int, int)> { (width, height) };
        while (sizes[^1].Item1 > tile || sizes[^1].Item2 > tile)
        {
            var (w, h) = sizes[^1];
            if (w / 2 < 1 || h / 2 < 1) break;
            sizes.Add((w / 2, h / 2));
        }
        return sizes;
    }

    /// <summary>Encodes the spool into <paramref name="files"/>; returns each level's tile layout (level 0 first).</summary>
    public static IReadOnlyList<(int Width, int Height, long[] Offsets, long[] ByteCounts)> Encode(
        string spoolPath, int width, int height, int tile, IReadOnlyList<TiledTiffFile> files, CancellationToken ct)
    {
        var encoder = new LabelPyramidEncoder(width, height, tile, files);
        using var spool = File.OpenHandle(spoolPath, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        var level0 = encoder._levels[0];
        long position = 0;
        for (int row = 0; row < height; row += tile)
        {
            ct.ThrowIfCancellationRequested();
            int rows = Math.Min(tile, height - row);
            var band = level0.Band.AsSpan(0, rows * width);
            int read = 0;
            while (read < band.Length)
            {
                int n = RandomAccess.Read(spool, band[read..], position + read);
                if (n == 0) throw new IOException($"label spool {spoolPath} ended at byte {position + read} of {(long)width * height}");
                read += n;
            }
            position += band.Length;
            level0.Filled = rows;
            encoder.Flush(0);
        }
        return encoder._levels.Select(l => (l.Width, l.Height, l.Offsets, l.ByteCounts)).ToList();
    }

    /// <summary>Writes level k's band as a row of tiles and feeds its 2×2 mode into level k + 1.</summary>
    private void Flush(int k)
    {
        var level = _levels[k];
        int rows = level.Filled, across = level.TilesAcross, bandIndex = level.BandsDone;
        var compressed = new byte[across][];
        Parallel.For(0, across, () => new byte[_tile * _tile], (tx, _, scratch) =>
        {
            compressed[tx] = CompressTile(level.Band, level.Width, rows, tx * _tile, scratch);
            return scratch;
        }, _ => { });
        for (int tx = 0; tx < across; tx++)
        {
            long offset = -1;
            foreach (var file in _files)
            {
                long at = file.Append(compressed[tx]);
                if (offset >= 0 && at != offset) throw new InvalidOperationException("TIFF targets diverged");
                offset = at;
            }
            level.Offsets[bandIndex * across + tx] = offset;
            level.ByteCounts[bandIndex * across + tx] = compressed[tx].Length;
        }
        level.BandsDone++;
        level.Filled = 0;
        if (k + 1 < _levels.Length) Feed(k + 1, level.Band, level.Width, rows);
    }

    /// <summary>
    /// Halves <paramref name="rows"/> rows of the band above into the next level's band, flushing it when full or when
    /// its last row has arrived (so every level is complete once level 0's last band is flushed: bands above hold an
    /// even number of rows, except the last, whose odd row is dropped as the level's height rounds down).
    /// </summary>
    private void Feed(int k, byte[] above, int aboveWidth, int rows)
    {
        var level = _levels[k];
        int pairs = rows / 2;
        for (int p = 0; p < pairs && level.RowsFed < level.Height;)
        {
            int take = Math.Min(Math.Min(pairs - p, _tile - level.Filled), level.Height - level.RowsFed);
            int firstPair = p, filled = level.Filled;
            Parallel.For(0, take, i =>
            {
                int src = (firstPair + i) * 2;
                ModeShrink.Rows(above.AsSpan(src * aboveWidth, aboveWidth), above.AsSpan((src + 1) * aboveWidth, aboveWidth),
                    level.Band.AsSpan((filled + i) * level.Width, level.Width));
            });
            level.Filled += take;
            level.RowsFed += take;
            p += take;
            if (level.Filled == _tile || level.RowsFed == level.Height) Flush(k);
        }
    }

    /// <summary>One tile: copied out of the band (zero beyond the image), differenced along rows, deflated.</summary>
    private byte[] CompressTile(byte[] band, int width, int rows, int x0, byte[] scratch)
    {
        int t = _tile, cols = Math.Min(t, width - x0);
        Array.Clear(scratch);
        for (int y = 0; y < rows; y++)
            HorizontalDifference(band.AsSpan(y * width + x0, cols), scratch.AsSpan(y * t, t));
        using var output = new MemoryStream(t * t / 8);
        using (var z = new ZLibStream(output, new ZLibCompressionOptions { CompressionLevel = ZlibLevel }, leaveOpen: true)) z.Write(scratch);
        return output.ToArray();
    }

    /// <summary>TIFF predictor 2 for 8-bit samples: each byte minus its left neighbour; the padding after the image stays 0 − last.</summary>
    private static void HorizontalDifference(ReadOnlySpan<byte> source, Span<byte> target)
    {
        int n = source.Length;
        target[0] = source[0];
        int x = 1, step = Vector<byte>.Count;
        for (; x + step <= n; x += step)
            (new Vector<byte>(source[x..]) - new Vector<byte>(source[(x - 1)..])).CopyTo(target[x..]);
        for (; x < n; x++) target[x] = (byte)(source[x] - source[x - 1]);
        if (n < target.Length) target[n] = (byte)-source[n - 1];
    }

    private sealed class Level(int width, int height, int tile)
    {
        public int Width { get; } = width;
        public int Height { get; } = height;
        public int TilesAcross { get; } = (width + tile - 1) / tile;
        public byte[] Band { get; } = new byte[(long)tile * width <= Array.MaxLength ? tile * width : throw new ArgumentOutOfRangeException(nameof(width))];
        public long[] Offsets { get; } = new long[((width + tile - 1) / tile) * ((height + tile - 1) / tile)];
        public long[] ByteCounts { get; } = new long[((width + tile - 1) / tile) * ((height + tile - 1) / tile)];
        public int Filled { get; set; }
        public int RowsFed { get; set; }
        public int BandsDone { get; set; }
    }
}

/// <summary>2×2 mode: averaging labels would invent classes, so each reduced pixel is the most common of four.</summary>
internal static class ModeShrink
{
    /// <summary>Reduces two rows to one of half the width (rounded down); ties go to the earliest of a, b, c, d.</summary>
    public static void Rows(ReadOnlySpan<byte> top, ReadOnlySpan<byte> bottom, Span<byte> output)
    {
        for (int x = 0; x < output.Length; x++)
        {
            byte a = top[2 * x], b = top[2 * x + 1], c = bottom[2 * x], d = bottom[2 * x + 1];
            // a value that appears twice or more is a mode (no other can appear three times then); else b, c pairs.
            output[x] = a == b || a == c || a == d ? a : b == c || b == d ? b : c == d ? c : a;
        }
    }
}
