using System.Text.Json;
using System.Text.Json.Serialization;

namespace WsiSegment.Processor.Cli;

/// <summary>One JSON style for everything we print or write: camelCase, indented, nulls left out.</summary>
public static class JsonOutput
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
