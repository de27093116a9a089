using System.Text.Json.Serialization;

namespace WsiSegment.Core.Classes;

/// <summary>One class: its name and display colour "#RRGGBB" (as the model card stores it). Its label value is its
/// index in the <see cref="ClassTable"/>.</summary>
public sealed record ClassInfo(string Name, string Colour)
{
    public ClassInfo(string name, Rgb colour) : this(name, colour.ToString()) { }

    /// <summary>The colour as RGB bytes; throws when <see cref="Colour"/> is not #RRGGBB (see <see cref="ClassTable.Problem"/>).</summary>
    [JsonIgnore]
    public Rgb Color => Rgb.TryParse(Colour, out var c) ? c : throw new FormatException($"class '{Name}': colour '{Colour}' is not #RRGGBB");
}
