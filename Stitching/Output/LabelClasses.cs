namespace WsiSegment.Stitching.Output;

/// <summary>An sRGB colour.</summary>
public readonly record struct Rgb(byte R, byte G, byte B)
{
    public override string ToString() => $"#{R:x2}{G:x2}{B:x2}";
}

/// <summary>One label class: its name and display colour. Its label value is its index in <see cref="LabelClasses"/>.</summary>
public sealed record LabelClass(string Name, Rgb Color);

/// <summary>The classes of a label image, indexed by label value; class 0 is background.</summary>
public sealed record LabelClasses
{
    public LabelClasses(IReadOnlyList<LabelClass> classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        if (classes.Count is < 1 or > 256) throw new ArgumentException($"{classes.Count} classes do not fit uint8 labels (1..256)", nameof(classes));
        for (int i = 0; i < classes.Count; i++)
            if (string.IsNullOrWhiteSpace(classes[i].Name)) throw new ArgumentException($"class {i} has no name", nameof(classes));
        Items = classes.ToArray();
    }

    public IReadOnlyList<LabelClass> Items { get; }
    public int Count => Items.Count;
    public LabelClass this[int label] => Items[label];

    /// <summary>A 256-entry RGB lookup table (label → colour; labels beyond the classes are black).</summary>
    public byte[] ColourTable()
    {
        var lut = new byte[256 * 3];
        for (int i = 0; i < Items.Count; i++)
        {
            lut[3 * i] = Items[i].Color.R;
            lut[3 * i + 1] = Items[i].Color.G;
            lut[3 * i + 2] = Items[i].Color.B;
        }
        return lut;
    }
}
