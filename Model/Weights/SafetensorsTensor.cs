using static TorchSharp.torch;

namespace WsiSegment.Model.Weights;

/// <summary>One named tensor of a safetensors file: element type, shape and its raw little-endian bytes.</summary>
public sealed record SafetensorsTensor
{
    public SafetensorsTensor(string name, SafetensorsDtype dtype, long[] shape, byte[] data)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (shape.Any(s => s < 0)) throw new ArgumentException($"tensor '{name}': negative dimension in [{string.Join(", ", shape)}]");
        long expected = ElementCount(shape) * dtype.ElementSize();
        if (data.LongLength != expected)
            throw new ArgumentException($"tensor '{name}': {data.LongLength} bytes for {dtype} [{string.Join(", ", shape)}], expected {expected}");
        Name = name;
        Dtype = dtype;
        Shape = shape;
        Data = data;
    }

    public string Name { get; }
    public SafetensorsDtype Dtype { get; }
    public long[] Shape { get; }
    public byte[] Data { get; }

    public static long ElementCount(long[] shape) => shape.Aggregate(1L, (a, b) => checked(a * b));

    /// <summary>Copies a tensor (any device, any layout) into a safetensors entry.</summary>
    public static SafetensorsTensor FromTensor(string name, Tensor tensor)
    {
        EnsureLittleEndian();
        using var scope = NewDisposeScope();
        var cpu = tensor.detach().cpu().contiguous();
        return new SafetensorsTensor(name, SafetensorsDtypes.FromScalarType(cpu.dtype), cpu.shape, cpu.bytes.ToArray());
    }

    /// <summary>A new CPU tensor holding a copy of the bytes; the caller disposes it.</summary>
    public Tensor ToTensor()
    {
        EnsureLittleEndian();
        var t = empty(Shape, Dtype.ToScalarType());
        if (Data.Length > 0) t.bytes = Data;
        return t;
    }

    internal static void EnsureLittleEndian()
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors I/O assumes a little-endian machine");
    }
}
