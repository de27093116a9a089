using static TorchSharp.torch;

namespace WsiSegment.Model.Weights;

/// <summary>The element types of the safetensors format (its spelling in the header: "F32", "BF16", …).</summary>
public enum SafetensorsDtype
{
    F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL,
}

public static class SafetensorsDtypes
{
    public static int ElementSize(this SafetensorsDtype d) => d switch
    {
        SafetensorsDtype.F64 or SafetensorsDtype.I64 => 8,
        SafetensorsDtype.F32 or SafetensorsDtype.I32 => 4,
        SafetensorsDtype.F16 or SafetensorsDtype.BF16 or SafetensorsDtype.I16 => 2,
        SafetensorsDtype.I8 or SafetensorsDtype.U8 or SafetensorsDtype.BOOL => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(d), d, null),
    };

    public static bool TryParse(string text, out SafetensorsDtype dtype) =>
        Enum.TryParse(text, ignoreCase: false, out dtype) && Enum.IsDefined(dtype);

    public static ScalarType ToScalarType(this SafetensorsDtype d) => d switch
    {
        SafetensorsDtype.F64 => ScalarType.Float64,
        SafetensorsDtype.F32 => ScalarType.Float32,
        SafetensorsDtype.F16 => ScalarType.Float16,
        SafetensorsDtype.BF16 => ScalarType.BFloat16,
        SafetensorsDtype.I64 => ScalarType.Int64,
        SafetensorsDtype.I32 => ScalarType.Int32,
        SafetensorsDtype.I16 => ScalarType.Int16,
        SafetensorsDtype.I8 => ScalarType.Int8,
        SafetensorsDtype.U8 => ScalarType.Byte,
        SafetensorsDtype.BOOL => ScalarType.Bool,
        _ => throw new ArgumentOutOfRangeException(nameof(d), d, null),
    };

    public static SafetensorsDtype FromScalarType(ScalarType t) => t switch
    {
        ScalarType.Float64 => SafetensorsDtype.F64,
        ScalarType.Float32 => SafetensorsDtype.F32,
        ScalarType.Float16 => SafetensorsDtype.F16,
        ScalarType.BFloat16 => SafetensorsDtype.BF16,
        ScalarType.Int64 => SafetensorsDtype.I64,
        ScalarType.Int32 => SafetensorsDtype.I32,
        ScalarType.Int16 => SafetensorsDtype.I16,
        ScalarType.Int8 => SafetensorsDtype.I8,
        ScalarType.Byte => SafetensorsDtype.U8,
        ScalarType.Bool => SafetensorsDtype.BOOL,
        _ => throw new NotSupportedException($"safetensors has no element type for {t}"),
    };
}
