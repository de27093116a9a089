using WsiSegment.Tiling.Tissue;

namespace WsiSegment.Tiling.Grid;

/// <summary>Which patches of a grid are run; the others are skipped and labelled background downstream.</summary>
public sealed class PatchSelection
{
    private readonly bool[] _run;

    private PatchSelection(PatchGrid grid, bool[] run)
    {
        Grid = grid;
        _run = run;
        RunCount = run.Count(r => r);
    }

    public PatchGrid Grid { get; }
    public int RunCount { get; }
    public int SkippedCount => _run.Length - RunCount;

    public bool IsRun(int index) => _run[index];

    /// <summary>Every patch runs (no tissue mask).</summary>
    public static PatchSelection All(PatchGrid grid) => new(grid, Enumerable.Repeat(true, grid.Count).ToArray());

    /// <summary>A patch runs when its tissue fraction (whole tile, clipped to the image) is ≥ the grid's MinTissueFraction.</summary>
    public static PatchSelection FromTissue(PatchGrid grid, TissueMask mask)
    {
        ArgumentNullException.ThrowIfNull(grid);
        ArgumentNullException.ThrowIfNull(mask);
        var run = new bool[grid.Count];
        double min = grid.Options.MinTissueFraction;
        foreach (var p in grid.Positions())
        {
            double f = mask.Fraction(p.X, p.Y, grid.Tile, grid.Tile);
            // A zero threshold runs everything, even tissue-free patches.
            run[p.Index] = min <= 0 || (f > 0 && f >= min);
        }
        return new PatchSelection(grid, run);
    }
}
