namespace WsiSegment.Tiling.Slides;

/// <summary>One pyramid level: its size in pixels and its downsample relative to level 0.</summary>
public sealed record SlideLevel(int Index, int Width, int Height, double Downsample);
