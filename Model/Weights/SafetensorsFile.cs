using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace WsiSegment.Model.Weights;

/// <summary>
/// Our own reader and writer of the safetensors format (huggingface/safetensors): an 8-byte little-endian header
/// length N, N bytes of UTF-8 JSON mapping each tensor name to {"dtype", "shape", "data_offsets": [begin, end]}
/// (offsets relative to the data section) plus an optional "__metadata__" string→string map, then the raw
/// little-endian tensor bytes. The reader validates everything before trusting an offset; the writer pads the
/// header with spaces so the data starts 8-byte aligned and lays tensors out contiguously in name order.
/// </summary>
public static class SafetensorsFile
{
    public const string MetadataKey = "__metadata__";

    /// <summary>Headers beyond this are refused (the reference implementation's limit is 100 MB too).</summary>
    private const long MaxHeaderBytes = 100_000_000;

    /// <summary>Reads a whole safetensors file. Throws <see cref="SafetensorsFormatException"/> naming the file when it is not valid.</summary>
    public static SafetensorsContent Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(stream, path);
    }

    /// <summary>Reads only the header (names, dtypes, shapes, metadata) without the tensor data.</summary>
    public static SafetensorsHeader ReadHeader(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return ReadHeader(stream, path);
    }

    public static SafetensorsContent Read(Stream stream, string source)
    {
        var header = ReadHeader(stream, source);
        var tensors = new List<SafetensorsTensor>(header.Entries.Count);
        foreach (var e in header.Entries.OrderBy(e => e.Begin))
        {
            var data = new byte[e.End - e.Begin];
            stream.Position = header.DataStart + e.Begin;
            stream.ReadExactly(data);
            tensors.Add(new SafetensorsTensor(e.Name, e.Dtype, e.Shape, data));
        }
        return new SafetensorsContent(header.Metadata, tensors.OrderBy(t => t.Name, StringComparer.Ordinal).ToList());
    }

    public static SafetensorsHeader ReadHeader(Stream stream, string source)
    {
        SafetensorsTensor.EnsureLittleEndian();
        long fileLength = stream.Length;
        if (fileLength < 8) throw new SafetensorsFormatException(source, $"not a safetensors file: only {fileLength} bytes (truncated or empty)");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n < 2 || n > MaxHeaderBytes)
            throw new SafetensorsFormatException(source, $"not a safetensors file: header length {n} is implausible");
        if ((long)n > fileLength - 8)
            throw new SafetensorsFormatException(source, $"truncated: header says {n} bytes, the file has {fileLength - 8} after the length");
        var headerBytes = new byte[n];
        stream.ReadExactly(headerBytes);

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(headerBytes);
        }
        catch (JsonException e)
        {
            throw new SafetensorsFormatException(source, "not a safetensors file: the header is not JSON (" + e.Message + ")", e);
        }

        long dataStart = 8 + (long)n;
        long dataLength = fileLength - dataStart;
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new SafetensorsFormatException(source, "not a safetensors file: the header is not a JSON object");
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var entries = new List<SafetensorsHeader.Entry>();
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == MetadataKey)
                {
                    if (prop.Value.ValueKind != JsonValueKind.Object)
                        throw new SafetensorsFormatException(source, "invalid header: __metadata__ is not an object");
                    foreach (var m in prop.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String)
                            throw new SafetensorsFormatException(source, $"invalid header: __metadata__.{m.Name} is not a string");
                        metadata[m.Name] = m.Value.GetString()!;
                    }
                    continue;
                }
                entries.Add(ParseEntry(prop, source));
            }
            CheckLayout(entries, dataLength, source);
            return new SafetensorsHeader(metadata, entries, dataStart, dataLength);
        }
    }

    private static SafetensorsHeader.Entry ParseEntry(JsonProperty prop, string source)
    {
        string name = prop.Name;
        var v = prop.Value;
        if (v.ValueKind != JsonValueKind.Object
            || !v.TryGetProperty("dtype", out var dtypeEl) || dtypeEl.ValueKind != JsonValueKind.String
            || !v.TryGetProperty("shape", out var shapeEl) || shapeEl.ValueKind != JsonValueKind.Array
            || !v.TryGetProperty("data_offsets", out var offEl) || offEl.ValueKind != JsonValueKind.Array || offEl.GetArrayLength() != 2)
            throw new SafetensorsFormatException(source, $"invalid header: tensor '{name}' needs dtype, shape and data_offsets [begin, end]");
        if (!SafetensorsDtypes.TryParse(dtypeEl.GetString()!, out var dtype))
            throw new SafetensorsFormatException(source, $"tensor '{name}': unsupported dtype '{dtypeEl.GetString()}'");
        var shape = new long[shapeEl.GetArrayLength()];
        int i = 0;
        foreach (var d in shapeEl.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var dim) || dim < 0)
                throw new SafetensorsFormatException(source, $"tensor '{name}': shape must be non-negative integers");
            shape[i++] = dim;
        }
        if (!offEl[0].TryGetInt64(out var begin) || !offEl[1].TryGetInt64(out var end) || begin < 0 || end < begin)
            throw new SafetensorsFormatException(source, $"tensor '{name}': data_offsets must be 0 ≤ begin ≤ end");
        long bytes;
        try
        {
            bytes = checked(SafetensorsTensor.ElementCount(shape) * dtype.ElementSize());
        }
        catch (OverflowException)
        {
            throw new SafetensorsFormatException(source, $"tensor '{name}': shape too large");
        }
        if (end - begin != bytes)
            throw new SafetensorsFormatException(source,
                $"tensor '{name}': {dtype} [{string.Join(", ", shape)}] needs {bytes} bytes but data_offsets span {end - begin}");
        if (bytes > Array.MaxLength)
            throw new SafetensorsFormatException(source, $"tensor '{name}': {bytes} bytes is more than one tensor may hold here");
        return new SafetensorsHeader.Entry(name, dtype, shape, begin, end);
    }

    /// <summary>The data section must be covered exactly: no overlaps, no holes, nothing past its end (the spec's rule).</summary>
    private static void CheckLayout(List<SafetensorsHeader.Entry> entries, long dataLength, string source)
    {
        var dup = entries.GroupBy(e => e.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new SafetensorsFormatException(source, $"invalid header: tensor '{dup.Key}' appears twice");
        long expectedNext = 0;
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.End > dataLength)
                throw new SafetensorsFormatException(source,
                    $"truncated: tensor '{e.Name}' ends at data byte {e.End}, the file holds only {dataLength} data bytes");
            if (e.Begin != expectedNext)
                throw new SafetensorsFormatException(source,
                    e.Begin < expectedNext ? $"invalid header: tensor '{e.Name}' overlaps the previous tensor"
                                           : $"invalid header: a hole in the data before tensor '{e.Name}'");
            expectedNext = e.End;
        }
        if (expectedNext != dataLength)
            throw new SafetensorsFormatException(source, $"invalid file: {dataLength - expectedNext} bytes after the last tensor");
    }

    /// <summary>Writes tensors (in ordinal name order) and optional metadata. Written to a temporary file, then moved into place.</summary>
    public static void Write(string path, IEnumerable<SafetensorsTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var tmp = Path.Combine(dir, "." + Path.GetFileName(path) + "." + Environment.ProcessId + ".tmp");
        try
        {
            using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
                Write(stream, tensors, metadata);
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    public static void Write(Stream stream, IEnumerable<SafetensorsTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        SafetensorsTensor.EnsureLittleEndian();
        var ordered = tensors.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        var duplicate = ordered.Zip(ordered.Skip(1)).FirstOrDefault(p => p.First.Name == p.Second.Name);
        if (duplicate.First is not null) throw new ArgumentException($"tensor '{duplicate.First.Name}' given twice");
        if (ordered.Any(t => t.Name == MetadataKey)) throw new ArgumentException("a tensor may not be called __metadata__");

        var json = new MemoryStream();
        using (var w = new Utf8JsonWriter(json))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject(MetadataKey);
                foreach (var (k, v) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in ordered)
            {
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", t.Dtype.ToString());
                w.WriteStartArray("shape");
                foreach (var d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + t.Data.LongLength);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += t.Data.LongLength;
            }
            w.WriteEndObject();
        }
        // Pad with spaces (valid JSON whitespace) so 8 + N is a multiple of 8: the data section starts aligned.
        long n = json.Length;
        long padded = (n + 7) / 8 * 8;
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)padded);
        stream.Write(prefix);
        json.Position = 0;
        json.CopyTo(stream);
        for (long i = n; i < padded; i++) stream.WriteByte((byte)' ');
        foreach (var t in ordered) stream.Write(t.Data);
    }
}

/// <summary>What a safetensors file's header says: metadata, entries and where the data section starts.</summary>
public sealed record SafetensorsHeader(
    IReadOnlyDictionary<string, string> Metadata,
    IReadOnlyList<SafetensorsHeader.Entry> Entries,
    long DataStart,
    long DataLength)
{
    public sealed record Entry(string Name, SafetensorsDtype Dtype, long[] Shape, long Begin, long End);
}

/// <summary>A whole safetensors file in memory: metadata and the tensors in name order.</summary>
public sealed class SafetensorsContent
{
    private readonly Dictionary<string, SafetensorsTensor> _byName;

    public SafetensorsContent(IReadOnlyDictionary<string, string> metadata, IReadOnlyList<SafetensorsTensor> tensors)
    {
        Metadata = metadata;
        Tensors = tensors;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    public IReadOnlyDictionary<string, string> Metadata { get; }
    public IReadOnlyList<SafetensorsTensor> Tensors { get; }
    public IReadOnlyDictionary<string, SafetensorsTensor> ByName => _byName;
}
