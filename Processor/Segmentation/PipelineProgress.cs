namespace WsiSegment.Processor.Segmentation;

/// <summary>A snapshot of one slide's progress: patches done out of the grid, and the rate so far.</summary>
public readonly record struct PipelineProgress(string Slide, string Stage, long Done, long Total, double PatchesPerSecond)
{
    public double Fraction => Total <= 0 ? 0 : Math.Clamp((double)Done / Total, 0, 1);

    public TimeSpan? Eta => PatchesPerSecond > 0 && Total > Done ? TimeSpan.FromSeconds((Total - Done) / PatchesPerSecond) : null;
}
