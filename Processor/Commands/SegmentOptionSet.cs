using System.CommandLine;
using WsiSegment.Core.Blending;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Segmentation;

namespace WsiSegment.Processor.Commands;

/// <summary>
/// The analysis options of `segment`, `watch`, `bench pipeline` and `cluster submit`, declared once: each is bound to
/// its <see cref="SegmentOptions"/> property, whose name is its configuration key ("Watch:Segment:Tile") and whose
/// default (<see cref="Core.Defaults.SegmentDefaults"/>) is the option's.
/// </summary>
public sealed class SegmentOptionSet : OptionSet<SegmentOptions>
{
    public SegmentOptionSet()
    {
        Model = Bind(new Option<string?>("--model", "-m") { Description = "Model checkpoint (.safetensors). Default: the bundled demo model." },
            nameof(SegmentOptions.ModelPath), o => o.ModelPath, (o, v) => o with { ModelPath = v });
        Mpp = Bind(new Option<double?>("--mpp") { Description = "Analysis resolution in µm/px. Default: the model card's." },
            nameof(SegmentOptions.Mpp), o => o.Mpp, (o, v) => o with { Mpp = v });
        AssumeMpp = Bind(new Option<double?>("--assume-mpp") { Description = "MPP of level 0 for slides that record none." },
            nameof(SegmentOptions.AssumeMpp), o => o.AssumeMpp, (o, v) => o with { AssumeMpp = v });
        Level = Bind(new Option<int?>("--level") { Description = "Analyse this pyramid level (no MPP needed)." },
            nameof(SegmentOptions.Level), o => o.Level, (o, v) => o with { Level = v });
        Tile = Bind(new Option<int>("--tile") { Description = "Inference tile size in analysis pixels (multiple of 8)." },
            nameof(SegmentOptions.Tile), o => o.Tile, (o, v) => o with { Tile = v });
        Overlap = Bind(new Option<int>("--overlap") { Description = "Overlap between neighbouring tiles in pixels." },
            nameof(SegmentOptions.Overlap), o => o.Overlap, (o, v) => o with { Overlap = v });
        Batch = Bind(new Option<int>("--batch") { Description = "Tiles per forward pass (1024² tiles run as fast one at a time, with less memory)." },
            nameof(SegmentOptions.BatchSize), o => o.BatchSize, (o, v) => o with { BatchSize = v });
        Blend = Bind(new Option<BlendMode>("--blend") { Description = "How overlapping predictions are merged: gaussian, cosine, average, crop." },
            nameof(SegmentOptions.Blend), o => o.Blend, (o, v) => o with { Blend = v });
        NoTissueMask = Bind(new Option<bool>("--no-tissue-mask") { Description = "Run every tile, not only those with tissue." },
            nameof(SegmentOptions.TissueMask), o => !o.TissueMask, (o, v) => o with { TissueMask = !v }, v => !v);
        MinTissue = Bind(new Option<double>("--min-tissue") { Description = "Minimum tissue fraction for a tile to run." },
            nameof(SegmentOptions.MinTissueFraction), o => o.MinTissueFraction, (o, v) => o with { MinTissueFraction = v });
        Device = Bind(new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N." },
            nameof(SegmentOptions.Device), o => o.Device, (o, v) => o with { Device = v });
        Precision = Bind(new Option<string>("--precision") { Description = "fp32 (default), bf16, auto (bf16 where the first batch shows it faster than fp32 and giving the same labels), or fp16 (CUDA only)." },
            nameof(SegmentOptions.Precision), o => o.Precision, (o, v) => o with { Precision = v });
        Threads = Bind(new Option<int>("--threads") { Description = "CPU threads for inference (0 = all cores)." },
            nameof(SegmentOptions.Threads), o => o.Threads, (o, v) => o with { Threads = v });
        NoGeoJson = Bind(new Option<bool>("--no-geojson") { Description = "Skip the GeoJSON polygons." },
            nameof(SegmentOptions.WriteGeoJson), o => !o.WriteGeoJson, (o, v) => o with { WriteGeoJson = !v }, v => !v);
    }

    public Option<string?> Model { get; }
    public Option<double?> Mpp { get; }
    public Option<double?> AssumeMpp { get; }
    public Option<int?> Level { get; }
    public Option<int> Tile { get; }
    public Option<int> Overlap { get; }
    public Option<int> Batch { get; }
    public Option<BlendMode> Blend { get; }
    public Option<bool> NoTissueMask { get; }
    public Option<double> MinTissue { get; }
    public Option<string> Device { get; }
    public Option<string> Precision { get; }
    public Option<int> Threads { get; }
    public Option<bool> NoGeoJson { get; }

    /// <summary>The validated options; a bad value is a <see cref="UserError"/> naming the option.</summary>
    public SegmentOptions Read(ParseResult parse)
    {
        try
        {
            return ReadUnvalidated(parse).Validate();
        }
        catch (ArgumentException e)
        {
            throw new UserError(e.Message, e);
        }
    }
}
