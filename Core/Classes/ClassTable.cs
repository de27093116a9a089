using System.Collections;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace WsiSegment.Core.Classes;

/// <summary>
/// The classes of a model and of its label images, indexed by label value (uint8): what the model card stores and
/// the mask writers, GeoJSON, report and extract read. Label <see cref="BackgroundId"/> is background (no GeoJSON
/// feature, what a skipped tile becomes). In JSON it is the plain array of classes.
/// </summary>
[CollectionBuilder(typeof(ClassTable), nameof(Create))]
[JsonConverter(typeof(ClassTableJsonConverter))]
public sealed class ClassTable : IReadOnlyList<ClassInfo>
{
    /// <summary>The label value of background.</summary>
    public const int BackgroundId = 0;

    /// <summary>uint8 labels: at most this many classes.</summary>
    public const int MaxClasses = 256;

    private readonly ClassInfo[] _items;

    /// <summary>Throws <see cref="ArgumentException"/> unless there are 1..256 classes; names and colours are checked by
    /// <see cref="Problem"/> (a card read from disk reports them with its file name).</summary>
    public ClassTable(IEnumerable<ClassInfo> classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        _items = classes.ToArray();
        if (_items.Length is < 1 or > MaxClasses)
            throw new ArgumentException($"{_items.Length} classes do not fit uint8 labels (1..{MaxClasses})", nameof(classes));
        if (Array.IndexOf(_items, null) is var i and >= 0) throw new ArgumentException($"class {i} is null", nameof(classes));
    }

    public static ClassTable Create(ReadOnlySpan<ClassInfo> classes) => new(classes.ToArray());

    /// <summary>The eight breast-biopsy tissue classes of Mehta et al. (Y-Net / ESPNet WSI experiments): the default
    /// model's, the phantoms' and extract's default names.</summary>
    public static readonly ClassTable BreastTissue =
    [
        new("background", "#FFFFFF"),
        new("benign epithelium", "#2CA02C"),
        new("malignant epithelium", "#D62728"),
        new("normal stroma", "#F7B6D2"),
        new("desmoplastic stroma", "#9467BD"),
        new("secretion", "#17BECF"),
        new("blood", "#8C564B"),
        new("necrosis", "#FF7F0E"),
    ];

    public int Count => _items.Length;
    public ClassInfo this[int label] => _items[label];
    public ClassInfo Background => _items[BackgroundId];
    public IReadOnlyList<string> Names => _items.Select(c => c.Name).ToArray();

    /// <summary>The first class without a name or with a colour that is not #RRGGBB, or null.</summary>
    public string? Problem()
    {
        for (int i = 0; i < _items.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(_items[i].Name)) return $"class {i} has no name";
            if (!Rgb.TryParse(_items[i].Colour, out _)) return $"class {i} ('{_items[i].Name}') colour '{_items[i].Colour}' is not #RRGGBB";
        }
        return null;
    }

    /// <summary>A 256-entry RGB lookup table (label → colour; labels beyond the classes are black).</summary>
    public byte[] ColourTable()
    {
        var lut = new byte[MaxClasses * 3];
        for (int i = 0; i < _items.Length; i++)
        {
            var c = _items[i].Color;
            (lut[3 * i], lut[3 * i + 1], lut[3 * i + 2]) = (c.R, c.G, c.B);
        }
        return lut;
    }

    /// <summary>The same classes with the names replaced (colours kept); throws unless there is one name per class.</summary>
    public ClassTable WithNames(IReadOnlyList<string> names)
    {
        if (names.Count != _items.Length) throw new ArgumentException($"{names.Count} names for {_items.Length} classes", nameof(names));
        return new ClassTable(_items.Select((c, i) => c with { Name = names[i] }));
    }

    public IEnumerator<ClassInfo> GetEnumerator() => ((IEnumerable<ClassInfo>)_items).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();
}

/// <summary>A <see cref="ClassTable"/> is written and read as the JSON array of its classes.</summary>
public sealed class ClassTableJsonConverter : JsonConverter<ClassTable>
{
    public override ClassTable Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var items = JsonSerializer.Deserialize<ClassInfo[]>(ref reader, options) ?? throw new JsonException("classes: null");
        try
        {
            return new ClassTable(items);
        }
        catch (ArgumentException e)
        {
            throw new JsonException("classes: " + e.Message, e);
        }
    }

    public override void Write(Utf8JsonWriter writer, ClassTable value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value.ToArray(), options);
}
