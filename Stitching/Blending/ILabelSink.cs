namespace WsiSegment.Stitching.Blending;

/// <summary>Receives final labels block by block, each block exactly once, in tile raster order.</summary>
public interface ILabelSink
{
    /// <summary>Writes a block of labels (row-major, <paramref name="width"/> × <paramref name="height"/> bytes)
    /// whose top-left pixel is (<paramref name="x"/>, <paramref name="y"/>) in the analysis image.</summary>
    void Write(int x, int y, int width, int height, ReadOnlySpan<byte> labels);
}
