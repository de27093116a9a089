using WsiSegment.Model.Cards;
using WsiSegment.Stitching.Blending;
using WsiSegment.Stitching.Output;

namespace WsiSegment.Processor.Segmentation;

/// <summary>The command line's and the model card's choices in Stitching's terms.</summary>
internal static class StitchChoices
{
    public static BlendMode BlendModeOf(BlendChoice b) => b switch
    {
        BlendChoice.Gaussian => BlendMode.Gaussian,
        BlendChoice.Cosine => BlendMode.Cosine,
        BlendChoice.Average => BlendMode.Average,
        _ => BlendMode.Crop,
    };

    public static LabelClasses LabelClassesOf(ModelCard card) => new(card.Classes
        .Select(c => { var (r, g, b) = c.Rgb; return new LabelClass(c.Name, new Rgb(r, g, b)); })
        .ToList());
}
