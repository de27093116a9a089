using WsiSegment.Tiling.Slides;

namespace WsiSegment.Tiling.Resolution;

/// <summary>The slide carries no MPP and neither an assumed MPP nor a level was given: we cannot pick a resolution.</summary>
public sealed class MissingMppException(string path)
    : SlideException(path, "the slide has no MPP (µm per pixel) metadata; give the scan's resolution (--assume-mpp) or a pyramid level to analyse (--level)");
