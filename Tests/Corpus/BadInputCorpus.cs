using System.Buffers.Binary;
using System.IO.Compression;
using NetVips;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Tests.Corpus;

/// <summary>What the tool must do with a corpus file: refuse it with one error line, give a correct result, or either
/// (a bit flip may land where it changes nothing).</summary>
public enum Expect { Error, Ok, Either }

public sealed record CorpusFile(string Name, string Fault, Expect Expect);

/// <summary>
/// A deterministic bad-input corpus, built from the small real slides in ../shared/slides (boxes.tiff: generic tiled
/// pyramid, deflate; small.svs: Aperio) and small images made here with libvips (a JPEG-tiled pyramid, uncompressed and
/// 16-bit and float tiles): truncations at many offsets, bit flips in directories and tile data, directory loops, huge
/// and zero tiles, absurd dimensions, short tile tables, empty tiles, decompression bombs (JPEG and PNG headers that
/// claim 65,500² and 40,000²), mislabelled and unreadable sample formats, zeroed JPEG quantisation tables, and entries
/// that are not regular files (FIFO, /dev/zero link, link loop, dangling link, directory named .svs). Same seed, same
/// files. Faults are modelled on OpenSlide's fuzzed test cases and libtiff's hardening checks.
/// </summary>
public static class BadInputCorpus
{
    public static IReadOnlyList<CorpusFile> Build(string dir, string sharedSlides, int seed = 14)
    {
        Directory.CreateDirectory(dir);
        VipsSetup.EnsureInitialised();
        var rng = new Random(seed);
        var files = new List<CorpusFile>();
        var boxes = File.ReadAllBytes(Path.Combine(sharedSlides, "boxes.tiff"));
        var small = File.ReadAllBytes(Path.Combine(sharedSlides, "small.svs"));
        var jpegTiled = JpegTiledPyramid(dir);
        void Add(string name, byte[] data, string fault, Expect expect)
        {
            File.WriteAllBytes(Path.Combine(dir, name), data);
            files.Add(new CorpusFile(name, fault, expect));
        }

        Add("good-boxes.tiff", boxes, "none (control)", Expect.Ok);
        Add("good-jpeg-tiled.tif", jpegTiled, "none (control)", Expect.Ok);
        foreach (int at in new[] { 4, 8, 64, 512, 2048, boxes.Length / 2, boxes.Length - 300, boxes.Length - 1 })
            Add($"trunc-boxes-{at}.tiff", boxes[..at], $"truncated at byte {at} of {boxes.Length}", Expect.Error);
        foreach (int at in new[] { 100, small.Length / 2, small.Length - 1 })
            Add($"trunc-small-{at}.svs", small[..at], $"truncated at byte {at} of {small.Length}", Expect.Error);
        foreach (int at in new[] { jpegTiled.Length / 3, jpegTiled.Length * 2 / 3, jpegTiled.Length - 5 })
            Add($"trunc-jpeg-{at}.tif", jpegTiled[..at], $"truncated at byte {at} of {jpegTiled.Length}", Expect.Error);

        var ifd0 = Tiff.Entries(boxes, 0);
        for (int i = 0; i < 8; i++)
        {
            var e = ifd0[rng.Next(ifd0.Count)];
            int bit = rng.Next(12 * 8);
            var d = (byte[])boxes.Clone();
            d[e.Position + bit / 8] ^= (byte)(1 << (bit % 8));
            Add($"flip-ifd-{i}.tiff", d, $"bit {bit % 8} of byte {bit / 8} flipped in the entry of tag {e.Tag}", Expect.Either);
        }
        var (tile0, tile0Bytes) = Tiff.FirstPiece(boxes, 0);
        for (int i = 0; i < 4; i++)
        {
            var d = (byte[])boxes.Clone();
            for (int k = 0; k < 3; k++) d[tile0 + rng.Next(tile0Bytes)] ^= (byte)(1 << rng.Next(8));
            Add($"flip-tile-deflate-{i}.tiff", d, "3 bits flipped in the first deflate tile", Expect.Either);
        }
        var (jt0, jt0Bytes) = Tiff.FirstPiece(jpegTiled, 0);
        for (int i = 0; i < 3; i++)
        {
            var d = (byte[])jpegTiled.Clone();
            for (int k = 0; k < 3; k++) d[jt0 + rng.Next(jt0Bytes)] ^= (byte)(1 << rng.Next(8));
            Add($"flip-tile-jpeg-{i}.tif", d, "3 bits flipped in the first JPEG tile", Expect.Either);
        }

        Add("ifd-loop-self.tiff", Tiff.WithNextIfd(boxes, 0, Tiff.IfdOffset(boxes, 0)), "directory 0 points back at itself", Expect.Error);
        Add("ifd-loop-back.tiff", Tiff.WithNextIfd(boxes, 1, Tiff.IfdOffset(boxes, 0)), "directory 1 points back at directory 0", Expect.Error);
        Add("ifd-outside.tiff", Tiff.WithNextIfd(boxes, 0, 0x7FFF_FFF0), "next directory beyond the end of the file", Expect.Error);
        Add("tile-huge.tiff", Tiff.WithValues(Tiff.WithValues(boxes, 0, 322, 1 << 20), 0, 323, 1 << 20), "tiles of 2^20×2^20 px (GLib aborted allocating one)", Expect.Error);
        Add("tile-zero.tiff", Tiff.WithValues(Tiff.WithValues(boxes, 0, 322, 0), 0, 323, 0), "tiles of 0×0 px", Expect.Error);
        Add("dims-65535.tiff", Tiff.WithValues(Tiff.WithValues(boxes, 0, 256, 65535), 0, 257, 65535), "level 0 claims 65535² with its short tile table", Expect.Error);
        Add("dims-2e9.tiff", Tiff.WithValues(Tiff.WithValues(boxes, 0, 256, 2_000_000_000), 0, 257, 2_000_000_000), "level 0 claims 2·10^9 px a side", Expect.Error);
        Add("dims-zero.tiff", Tiff.WithValues(boxes, 0, 256, 0), "level 0 is 0 px wide", Expect.Error);
        var allSparse = boxes;
        for (int i = 0; i < Tiff.Count(boxes); i++) allSparse = Tiff.WithValues(allSparse, i, 325, 0);
        Add("tiles-all-empty.tiff", allSparse, "every TileByteCount is 0 (decodes as all background)", Expect.Error);
        Add("tiles-offsets-outside.tiff", Tiff.WithValues(boxes, 0, 324, 0x7000_0000), "every tile offset beyond the end of the file", Expect.Error);

        Add("bomb-65500.jpg", JpegBomb(dir), "a small JPEG whose header claims 65,500×65,500 px", Expect.Error);
        Add("bomb-40000.png", PngBomb(), "a small PNG whose header claims 40,000×40,000 px", Expect.Error);
        var raw = UncompressedTiled(dir, Enums.BandFormat.Uchar);
        Add("good-uncompressed.tif", raw, "none (control)", Expect.Ok);
        Add("bps-8-as-16.tif", Tiff.WithArray(raw, 0, 258, 16), "8-bit samples labelled 16-bit", Expect.Error);
        Add("bps-16-as-8.tif", Tiff.WithArray(UncompressedTiled(dir, Enums.BandFormat.Ushort), 0, 258, 8), "16-bit samples labelled 8-bit (noise segmented as tissue)", Expect.Error);
        Add("bps-12.tif", Tiff.WithArray(raw, 0, 258, 12), "12-bit samples", Expect.Error);
        Add("float-samples.tif", UncompressedTiled(dir, Enums.BandFormat.Float), "32-bit floating-point samples", Expect.Error);
        Add("jpeg-dqt-zero.tif", Tiff.WithZeroQuantisation(jpegTiled), "JPEG quantisation tables zeroed (decodes as flat grey)", Expect.Error);
        Add("text.svs", "this is not a slide\n"u8.ToArray(), "a text file named .svs", Expect.Error);
        Add("empty.svs", [], "an empty file", Expect.Error);
        Add("random.svs", RandomBytes(rng, 4096), "4 KiB of random bytes", Expect.Error);
        Add("tiff-header-only.tif", boxes[..8], "a TIFF header and nothing else", Expect.Error);

        string P(string name) => Path.Combine(dir, name);
        if (OperatingSystem.IsLinux())
        {
            Tool("mkfifo", P("fifo.svs"));
            files.Add(new("fifo.svs", "a FIFO (opening it blocks)", Expect.Error));
        }
        File.CreateSymbolicLink(P("dev-zero.svs"), "/dev/zero");
        files.Add(new("dev-zero.svs", "a symbolic link to /dev/zero (reading never ends)", Expect.Error));
        File.CreateSymbolicLink(P("loop-a.svs"), P("loop-b.svs"));
        File.CreateSymbolicLink(P("loop-b.svs"), P("loop-a.svs"));
        files.Add(new("loop-a.svs", "a symbolic link loop", Expect.Error));
        File.CreateSymbolicLink(P("dangling.svs"), P("nothing-here.svs"));
        files.Add(new("dangling.svs", "a symbolic link to nothing", Expect.Error));
        Directory.CreateDirectory(P("folder.svs"));
        files.Add(new("folder.svs", "a directory named .svs", Expect.Error));
        File.WriteAllBytes(P("no-read-permission.tiff"), boxes);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(P("no-read-permission.tiff"), UnixFileMode.None);
        // root reads it anyway (a correct result); anyone else gets a permission-denied line.
        files.Add(new("no-read-permission.tiff", "mode 000", Environment.UserName == "root" ? Expect.Ok : Expect.Error));
        return files;
    }

    private static byte[] RandomBytes(Random rng, int n)
    {
        var b = new byte[n];
        rng.NextBytes(b);
        b[0] = 0x42; // never a real signature by chance
        return b;
    }

    private static void Tool(string program, params string[] args)
    {
        var r = WsiSegment.Tests.Support.Tool.Run(program, args);
        if (r.ExitCode != 0) throw new InvalidOperationException($"{program} failed: {r.Stderr}");
    }

    /// <summary>A 600×400 smooth RGB image as a JPEG-tiled pyramidal TIFF (JPEGTables in each directory).</summary>
    private static byte[] JpegTiledPyramid(string dir)
    {
        string path = Path.Combine(dir, ".src-jpeg.tif");
        using (var xyz = Image.Xyz(600, 400))
        using (var r = xyz[0] * 0.4)
        using (var g = xyz[1] * 0.6)
        using (var b = (xyz[0] + xyz[1]) * 0.2)
        using (var rgb = r.Bandjoin(g, b).Cast(Enums.BandFormat.Uchar))
        using (var srgb = rgb.Copy(interpretation: Enums.Interpretation.Srgb))
            srgb.Tiffsave(path, tile: true, tileWidth: 128, tileHeight: 128, pyramid: true, compression: Enums.ForeignTiffCompression.Jpeg, q: 80);
        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        return bytes;
    }

    private static byte[] UncompressedTiled(string dir, Enums.BandFormat format)
    {
        string path = Path.Combine(dir, ".src-raw.tif");
        using (var xyz = Image.Xyz(256, 192))
        using (var x = xyz[0])
        using (var rgb = x.Bandjoin(x, x).Cast(format))
        using (var srgb = rgb.Copy(interpretation: format == Enums.BandFormat.Ushort ? Enums.Interpretation.Rgb16 : Enums.Interpretation.Srgb))
            srgb.Tiffsave(path, tile: true, tileWidth: 64, tileHeight: 64, compression: Enums.ForeignTiffCompression.None);
        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        return bytes;
    }

    internal static byte[] JpegBomb(string dir)
    {
        string path = Path.Combine(dir, ".src.jpg");
        using (var black = Image.Black(16, 16, bands: 3)) black.Jpegsave(path);
        var d = File.ReadAllBytes(path);
        File.Delete(path);
        for (int i = 2; i + 9 < d.Length; i++)
            if (d[i] == 0xFF && d[i + 1] is 0xC0 or 0xC2)
            {
                BinaryPrimitives.WriteUInt16BigEndian(d.AsSpan(i + 5), 65500);
                BinaryPrimitives.WriteUInt16BigEndian(d.AsSpan(i + 7), 65500);
                return d;
            }
        throw new InvalidOperationException("no SOF marker in libvips' JPEG");
    }

    /// <summary>A valid PNG stream (IHDR with a right CRC) claiming 40,000² grey pixels, with one small IDAT.</summary>
    private static byte[] PngBomb()
    {
        using var ms = new MemoryStream();
        ms.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, 40000);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), 40000);
        ihdr[8] = 8; // bit depth; colour type 0 (grey)
        Chunk(ms, "IHDR", ihdr);
        using (var z = new MemoryStream())
        {
            using (var zl = new ZLibStream(z, CompressionLevel.SmallestSize, leaveOpen: true)) zl.Write(new byte[40001 * 64]);
            Chunk(ms, "IDAT", z.ToArray());
        }
        Chunk(ms, "IEND", []);
        return ms.ToArray();

        static void Chunk(Stream s, string type, byte[] data)
        {
            Span<byte> len = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(len, (uint)data.Length);
            s.Write(len);
            var typed = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
            s.Write(typed);
            BinaryPrimitives.WriteUInt32BigEndian(len, Crc32(typed));
            s.Write(len);
        }

        static uint Crc32(byte[] data)
        {
            uint crc = 0xFFFFFFFF;
            foreach (byte b in data)
            {
                crc ^= b;
                for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
            return ~crc;
        }
    }
}
