using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Weights;
using WsiSegment.Tests.Support;
using static TorchSharp.torch;

namespace WsiSegment.Tests.Model.Weights;

public class SafetensorsFileTests
{
    public SafetensorsFileTests() => TorchRuntime.Initialise();

    private static List<SafetensorsTensor> SampleTensors()
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        return
        [
            SafetensorsTensor.FromTensor("a.f32", randn(3, 5)),
            SafetensorsTensor.FromTensor("b.f16", randn(7).to(float16)),
            SafetensorsTensor.FromTensor("c.bf16", randn(2, 3, 1).to(bfloat16)),
            SafetensorsTensor.FromTensor("d.i64", tensor(new long[] { long.MinValue, -1, 0, 42, long.MaxValue })),
            SafetensorsTensor.FromTensor("e.scalar", tensor(123L)),
            SafetensorsTensor.FromTensor("f.empty", zeros(0, 4)),
        ];
    }

    [Fact]
    public void Round_trip_is_bit_exact_and_rewriting_gives_the_same_bytes()
    {
        using var dir = new TempDir("st");
        var tensors = SampleTensors();
        var meta = new Dictionary<string, string> { ["note"] = "ünïcode ✓", ["format"] = "x" };
        SafetensorsFile.Write(dir.File("a.safetensors"), tensors, meta);
        var back = SafetensorsFile.Read(dir.File("a.safetensors"));
        Assert.Equal(meta, back.Metadata);
        Assert.Equal(tensors.Count, back.Tensors.Count);
        foreach (var t in tensors)
        {
            var b = back.ByName[t.Name];
            Assert.Equal(t.Dtype, b.Dtype);
            Assert.Equal(t.Shape, b.Shape);
            Assert.Equal(t.Data, b.Data);
        }
        SafetensorsFile.Write(dir.File("b.safetensors"), back.Tensors, back.Metadata);
        Assert.Equal(File.ReadAllBytes(dir.File("a.safetensors")), File.ReadAllBytes(dir.File("b.safetensors")));

        // Through torch and back: the values survive, too.
        using var bf = back.ByName["c.bf16"].ToTensor();
        Assert.Equal(ScalarType.BFloat16, bf.dtype);
        Assert.Equal(tensors.Single(t => t.Name == "c.bf16").Data, SafetensorsTensor.FromTensor("x", bf).Data);
    }

    [Fact]
    public void Written_file_follows_the_format_aligned_header_contiguous_offsets()
    {
        using var dir = new TempDir("st");
        var tensors = SampleTensors();
        SafetensorsFile.Write(dir.File("a.safetensors"), tensors);
        var bytes = File.ReadAllBytes(dir.File("a.safetensors"));
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, (8 + n) % 8);
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)n));
        var spans = doc.RootElement.EnumerateObject()
            .Select(p => (Name: p.Name, Begin: p.Value.GetProperty("data_offsets")[0].GetInt64(), End: p.Value.GetProperty("data_offsets")[1].GetInt64()))
            .OrderBy(s => s.Begin).ToList();
        Assert.Equal(tensors.Count, spans.Count);
        long next = 0;
        foreach (var s in spans)
        {
            Assert.Equal(next, s.Begin);
            next = s.End;
        }
        Assert.Equal(bytes.Length - 8 - n, next);
        // Each tensor's bytes sit where the header says.
        var a = tensors.Single(t => t.Name == "a.f32");
        var sa = spans.Single(s => s.Name == "a.f32");
        Assert.Equal(a.Data, bytes.AsSpan((int)(8 + n + sa.Begin), (int)(sa.End - sa.Begin)).ToArray());
        Assert.Equal("F32", doc.RootElement.GetProperty("a.f32").GetProperty("dtype").GetString());
        Assert.Equal("BF16", doc.RootElement.GetProperty("c.bf16").GetProperty("dtype").GetString());
    }

    [Fact]
    public void Bad_files_give_errors_that_name_the_file_and_the_reason()
    {
        using var dir = new TempDir("st");
        var good = dir.File("good.safetensors");
        SafetensorsFile.Write(good, SampleTensors());
        var bytes = File.ReadAllBytes(good);

        string Fail(string name, byte[] content)
        {
            var path = dir.File(name);
            File.WriteAllBytes(path, content);
            var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Read(path));
            Assert.StartsWith(path + ": ", e.Message);
            return e.Message;
        }

        Assert.Contains("truncated", Fail("cut.safetensors", bytes[..(bytes.Length - 3)]));
        Assert.Contains("truncated", Fail("cut-header.safetensors", bytes[..20]));
        Assert.Contains("not a safetensors file", Fail("tiny.safetensors", [1, 2, 3]));
        Assert.Contains("not a safetensors file", Fail("png.safetensors", Encoding.ASCII.GetBytes("\x89PNG\r\n\x1a\n and some more bytes of an image")));
        var notJson = new byte[8 + 8];
        BinaryPrimitives.WriteUInt64LittleEndian(notJson, 8);
        Encoding.ASCII.GetBytes("{nojson!").CopyTo(notJson, 8);
        Assert.Contains("not JSON", Fail("notjson.safetensors", notJson));
        Assert.Contains("bytes after the last tensor", Fail("extra.safetensors", [.. bytes, 0, 0, 0, 0]));
    }
}
