using WsiSegment.Model.Training;
using WsiSegment.Tiling.Patches;

namespace WsiSegment.Processor.Training;

/// <summary>The Tiling PNG reader in the shape Model's training wants (Model decodes no files itself).</summary>
public static class DatasetImageReader
{
    public static readonly ImageFileReader Png = (path, bands) =>
    {
        var p = PatchImageFile.Read(path, bands);
        return new DecodedImage(p.Pixels, p.Width, p.Height, p.Bands);
    };
}
