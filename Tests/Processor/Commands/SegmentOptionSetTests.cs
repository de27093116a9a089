using System.CommandLine;
using WsiSegment.Core.Blending;
using WsiSegment.Core.Defaults;
using WsiSegment.Processor.Commands;
using WsiSegment.Processor.Segmentation;

namespace WsiSegment.Tests.Processor.Commands;

/// <summary>The segment options are declared once: what a command reads, what the watch service's configuration gets
/// and what a child process is given all come from that one declaration.</summary>
public class SegmentOptionSetTests
{
    private static (SegmentOptionSet Set, Command Command) Command()
    {
        var set = new SegmentOptionSet();
        var cmd = new Command("segment");
        set.AddTo(cmd);
        return (set, cmd);
    }

    [Fact]
    public void Nothing_given_is_the_records_defaults()
    {
        var (set, cmd) = Command();
        var read = set.Read(cmd.Parse([]));
        Assert.Equal(new SegmentOptions(), read);
        Assert.Equal((SegmentDefaults.Tile, SegmentDefaults.Overlap, SegmentDefaults.MinTissueFraction, SegmentDefaults.Blend),
            (read.Tile, read.Overlap, read.MinTissueFraction, read.Blend));
    }

    [Fact]
    public void A_record_turned_into_arguments_reads_back_the_same()
    {
        var (set, cmd) = Command();
        var options = new SegmentOptions
        {
            ModelPath = "/m/x.safetensors", Mpp = 0.25, AssumeMpp = 0.3, Level = 1, Tile = 512, Overlap = 64, BatchSize = 4,
            Blend = BlendMode.Crop, TissueMask = false, MinTissueFraction = 0.1, Device = "cpu", Precision = "bf16", Threads = 3, WriteGeoJson = false,
        };
        var args = set.ToArgs(options);
        Assert.Contains("--no-tissue-mask", args);
        Assert.Contains("--no-geojson", args);
        Assert.Equal(options, set.Read(cmd.Parse(args)));
        Assert.Empty(set.ToArgs(new SegmentOptions())); // defaults need no arguments
    }

    [Fact]
    public void Only_given_options_become_configuration_keys_named_after_the_properties()
    {
        var (set, cmd) = Command();
        var values = new Dictionary<string, string?>();
        set.MapGiven(cmd.Parse(["-m", "a.safetensors", "--tile", "256", "--no-geojson", "--mpp", "0.5", "--blend", "cosine"]), "Watch:Segment", values);
        Assert.Equal(new Dictionary<string, string?>
        {
            ["Watch:Segment:" + nameof(SegmentOptions.ModelPath)] = "a.safetensors",
            ["Watch:Segment:" + nameof(SegmentOptions.Tile)] = "256",
            ["Watch:Segment:" + nameof(SegmentOptions.WriteGeoJson)] = "false",
            ["Watch:Segment:" + nameof(SegmentOptions.Mpp)] = "0.5",
            ["Watch:Segment:" + nameof(SegmentOptions.Blend)] = "Cosine",
        }, values);
    }

    [Fact]
    public void A_bad_value_names_its_option()
    {
        var (set, cmd) = Command();
        var e = Assert.Throws<WsiSegment.Processor.Cli.UserError>(() => set.Read(cmd.Parse(["--tile", "100"])));
        Assert.Contains("--tile 100", e.Message);
    }
}
