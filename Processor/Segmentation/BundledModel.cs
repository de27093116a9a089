namespace WsiSegment.Processor.Segmentation;

/// <summary>Where the demo model that ships with the tool lives (copied next to the executable at build).</summary>
public static class BundledModel
{
    public const string FileName = "demo-espnet.safetensors";

    public static string Path => System.IO.Path.Combine(AppContext.BaseDirectory, "models", FileName);
}
