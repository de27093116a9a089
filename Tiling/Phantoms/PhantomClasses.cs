using WsiSegment.Core.Classes;

namespace WsiSegment.Tiling.Phantoms;

/// <summary>The 8 tissue classes of the phantoms (and of the paper's breast-biopsy data), by label value.</summary>
public static class PhantomClasses
{
    public const int Count = 8;
    public const byte Background = 0;
    public const byte BenignEpithelium = 1;
    public const byte MalignantEpithelium = 2;
    public const byte NormalStroma = 3;
    public const byte DesmoplasticStroma = 4;
    public const byte Secretion = 5;
    public const byte Blood = 6;
    public const byte Necrosis = 7;

    public static readonly IReadOnlyList<string> Names = ClassTable.BreastTissue.Names;
}
