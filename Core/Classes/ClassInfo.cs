using System.Text.Json.Serialization;

namespace WsiSegment.Core.Classes;

/// <summary>One class: its name and display colour "#RRGGBB" (as the model card stores it). Its label value is its
/// index in the <see cref="ClassTable"/>.</summary>
public sealed record ClassInfo
{
    [JsonConstructor]
    public ClassInfo(string name, string colour)
    {
        Name = name;
        Colour = colour;
    }

    public ClassInfo(string name, Rgb colour) : this(name, colour.ToString()) { }

    public string Name { get; init; }

    /// <summary>"#RRGGBB"; checked by <see cref="ClassTable.Problem"/>.</summary>
    public string Colour { get; init; }

    /// <summary>The colour as RGB bytes; throws when <see cref="Colour"/> is not #RRGGBB.</summary>
    [JsonIgnore]
    public Rgb Color => Rgb.TryParse(Colour, out var c) ? c : throw new FormatException($"class '{Name}': colour '{Colour}' is not #RRGGBB");
}
