namespace WsiSegment.Tiling.Grid;

/// <summary>
/// A patch in the grid: raster index (Row·Cols + Col) and its top-left corner in analysis pixels.
/// The patch spans [X, X+Tile) × [Y, Y+Tile) and may reach past the right/bottom border (reflection padding there).
/// </summary>
public readonly record struct PatchPosition(int Index, int Row, int Col, int X, int Y);
