using System.Text.Json;
using System.Xml.Linq;
using NetVips;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Commands;

public class SegmentCommandTests
{
    [SharedFact]
    public void Segments_a_real_svs_into_masks_that_third_party_readers_open()
    {
        using var dir = new TempDir("seg");
        string slide = Path.Combine(Repo.SharedSlides, "CMU-1-Small-Region.svs");
        var r = Tool.WsiSegment("segment", slide, "-o", dir.Path, "--model", TestModels.RandomEspNet(), "--tile", "256", "--overlap", "64");
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);

        string stem = dir.File("CMU-1-Small-Region");
        foreach (var suffix in new[] { ".mask.tif", ".mask.ome.tif", ".overlay.tif", ".geojson", ".thumb.png", ".tissue.png", ".json" })
            Assert.True(File.Exists(stem + suffix), "missing " + suffix);
        Assert.Empty(Directory.GetDirectories(dir.Path));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.part*"));

        // Report: the analysis at 2 µm/px of a 0.499 µm/px slide (2220x2967 → ~554x741).
        using var report = JsonDocument.Parse(File.ReadAllText(stem + ".json"));
        var analysis = report.RootElement.GetProperty("analysis");
        int w = analysis.GetProperty("width").GetInt32(), h = analysis.GetProperty("height").GetInt32();
        Assert.InRange(w, 550, 560);
        Assert.InRange(h, 737, 746);
        Assert.Equal(64, report.RootElement.GetProperty("slide").GetProperty("sha256").GetString()!.Length);
        long pixels = report.RootElement.GetProperty("classes").EnumerateArray().Sum(c => c.GetProperty("pixels").GetInt64());
        Assert.Equal((long)w * h, pixels);
        // CPU time of the slide: some was spent, and no more than all cores for the whole run.
        double cpu = report.RootElement.GetProperty("cpuSeconds").GetDouble();
        Assert.InRange(cpu, 0.01, Environment.ProcessorCount * report.RootElement.GetProperty("totalSeconds").GetDouble() + 0.1);
        // The stream's wall time lies within the run's, and inference's idle times within the stream's.
        var stream = report.RootElement.GetProperty("stream");
        double streamSeconds = stream.GetProperty("seconds").GetDouble();
        Assert.InRange(streamSeconds, 0.001, report.RootElement.GetProperty("totalSeconds").GetDouble());
        double idle = new[] { "inferenceFillSeconds", "inferenceWaitedForPatchesSeconds", "inferenceWaitedForStitcherSeconds" }
            .Sum(name => { double s = stream.GetProperty(name).GetDouble(); Assert.True(s >= 0, name); return s; });
        Assert.InRange(idle, 0, streamSeconds);
        // segment re-executes itself with one malloc arena (the tests' environment does not set one).
        var runtime = report.RootElement.GetProperty("runtime");
        Assert.Equal("1", runtime.GetProperty("mallocArenaMax").GetString());
        Assert.True(runtime.GetProperty("allocatorTuned").GetBoolean());

        // OpenSlide opens the mask with every level; its resolution tags give the MPP back.
        var props = OpenSlideProperties.Read(stem + ".mask.tif");
        Assert.Equal("generic-tiff", props["openslide.vendor"]);
        Assert.Equal(w, (int)props.Number("openslide.level[0].width")!);
        Assert.Equal("centimeter", props["tiff.ResolutionUnit"]);
        Assert.Equal(2.0, 10_000.0 / props.Number("tiff.XResolution")!.Value, 3);

        // tiffinfo: tiled, deflate, no JPEG.
        var info = Tool.Run(Tool.Require("tiffinfo", "libtiff-tools"), [stem + ".mask.tif"]);
        Assert.Contains("Tile Width: 512", info.Stdout);
        Assert.Contains("Deflate", info.Stdout, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("JPEG", info.Stdout);

        // libvips reads the same labels back from the plain and the OME mask; all labels are valid classes.
        using var mask = Image.NewFromFile(stem + ".mask.tif");
        using var ome = Image.NewFromFile(stem + ".mask.ome.tif");
        Assert.Equal(0.0, (mask - ome).Abs().Max());
        Assert.True(mask.Max() < 8);
        var xml = XDocument.Parse((string)ome.Get("image-description"));
        var pixelsEl = xml.Descendants().First(e => e.Name.LocalName == "Pixels");
        Assert.Equal(2.0, double.Parse(pixelsEl.Attribute("PhysicalSizeX")!.Value, System.Globalization.CultureInfo.InvariantCulture), 3);

        using var geo = JsonDocument.Parse(File.ReadAllText(stem + ".geojson"));
        Assert.Equal("FeatureCollection", geo.RootElement.GetProperty("type").GetString());
    }

    public static TheoryData<string> ValidSlides => new() { "small.svs", "boxes.tiff", "test3-DAPI-2-_387_.ndpi" };

    [SharedTheory]
    [MemberData(nameof(ValidSlides))]
    public void Runs_on_every_valid_shared_slide_including_one_smaller_than_a_patch(string name)
    {
        using var dir = new TempDir("seg");
        string slide = Path.Combine(Repo.SharedSlides, name);
        // boxes.tiff records no MPP: it needs --assume-mpp (or --level).
        string[] extra = name == "boxes.tiff" ? ["--assume-mpp", "2.0"] : [];
        var r = Tool.WsiSegment(["segment", slide, "-o", dir.Path, "--model", TestModels.RandomEspNet(), "--tile", "256", "--overlap", "64", .. extra]);
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        string stem = Path.Combine(dir.Path, Path.GetFileNameWithoutExtension(name));
        Assert.True(File.Exists(stem + ".json"));
        using var mask = Image.NewFromFile(stem + ".mask.tif");
        Assert.True(mask.Width >= 1 && mask.Height >= 1);
    }

    [SharedFact]
    public void Precision_auto_reports_what_it_measured_and_runs_what_it_chose()
    {
        using var dir = new TempDir("seg");
        // A phantom of 7×7 tiles: more batches than the trial takes.
        var synth = Tool.WsiSegment("synth", dir.File("in"), "--size", "640x640", "--seed", "3", "--mpp", "2", "--tissue", "1");
        Assert.True(synth.ExitCode == 0, synth.Stderr);
        var r = Tool.WsiSegment("segment", Path.Combine(dir.File("in"), "phantom-3.tif"), "-o", dir.Path, "--model", TestModels.Demo,
            "--tile", "128", "--overlap", "32", "--no-tissue-mask", "--precision", "auto");
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        using var report = JsonDocument.Parse(File.ReadAllText(dir.File("phantom-3.json")));
        var auto = report.RootElement.GetProperty("precisionAuto");
        string chosen = auto.GetProperty("chosen").GetString()!;
        Assert.Contains(chosen, new[] { "fp32", "bf16" });
        Assert.Equal(chosen, report.RootElement.GetProperty("analysis").GetProperty("precision").GetString());
        double agreement = auto.GetProperty("labelAgreement").GetDouble();
        Assert.InRange(agreement, 0, 1);
        string reason = auto.GetProperty("reason").GetString()!;
        Assert.DoesNotContain("nothing decided", reason);
        if (agreement >= 0.995) // the trial ran: both timed
            Assert.True(auto.GetProperty("fp32Ms").GetDouble() > 0 && auto.GetProperty("bf16Ms").GetDouble() > 0, reason);
        else
            Assert.Equal("fp32", chosen);

        // A fixed precision reports itself and no probe.
        var fixedRun = Tool.WsiSegment("segment", Path.Combine(Repo.SharedSlides, "small.svs"), "-o", dir.File("fixed"), "--model", TestModels.Demo,
            "--tile", "256", "--overlap", "64", "--precision", "bf16");
        Assert.True(fixedRun.ExitCode == 0, fixedRun.Stderr + fixedRun.Stdout);
        using var fixedReport = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.File("fixed"), "small.json")));
        Assert.Equal("bf16", fixedReport.RootElement.GetProperty("analysis").GetProperty("precision").GetString());
        Assert.False(fixedReport.RootElement.TryGetProperty("precisionAuto", out _));
    }

    [SharedFact]
    public void Slide_without_mpp_fails_clearly_unless_told()
    {
        using var dir = new TempDir("seg");
        var r = Tool.WsiSegment("segment", Path.Combine(Repo.SharedSlides, "boxes.tiff"), "-o", dir.Path, "--model", TestModels.RandomEspNet());
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("boxes.tiff", r.Stderr);
        Assert.Contains("--assume-mpp", r.Stderr);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [SharedFact]
    public void The_report_lists_the_outputs_written_and_no_others()
    {
        using var dir = new TempDir("seg");
        var r = Tool.WsiSegment("segment", Path.Combine(Repo.SharedSlides, "small.svs"), "-o", dir.Path, "--model", TestModels.RandomEspNet(),
            "--tile", "256", "--overlap", "64", "--no-geojson", "--no-tissue-mask");
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        using var report = JsonDocument.Parse(File.ReadAllText(dir.File("small.json")));
        var outputs = report.RootElement.GetProperty("outputs").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        Assert.Equal(new[] { "mask", "omeMask", "overlay", "thumbnail" }.Order(), outputs.Keys.Order());
        Assert.All(outputs.Values, f => Assert.True(File.Exists(dir.File(f)), f));
        Assert.False(File.Exists(dir.File("small.geojson")));
        Assert.False(File.Exists(dir.File("small.tissue.png")));
    }

    [SharedFact]
    public void Bad_slides_fail_with_one_line_each_and_leave_nothing_while_good_ones_still_run()
    {
        using var dir = new TempDir("seg");
        string truncated = dir.File("truncated.svs");
        var whole = File.ReadAllBytes(Path.Combine(Repo.SharedSlides, "CMU-1-Small-Region.svs"));
        File.WriteAllBytes(truncated, whole[..(whole.Length / 2)]);
        string outDir = Path.Combine(dir.Path, "out");
        var r = Tool.WsiSegment("segment",
            Path.Combine(Repo.SharedSlides, "unreadable.svs"), Path.Combine(Repo.SharedSlides, "broken.svs"), truncated,
            Path.Combine(Repo.SharedSlides, "small.svs"),
            "-o", outDir, "--model", TestModels.RandomEspNet(), "--tile", "256", "--overlap", "64");
        Assert.Equal(1, r.ExitCode);
        var errors = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error: ")).ToList();
        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.Contains("unreadable.svs"));
        Assert.Contains(errors, e => e.Contains("broken.svs"));
        Assert.Contains(errors, e => e.Contains("truncated.svs"));
        Assert.DoesNotContain("   at ", r.Stderr);
        // Only the good slide's outputs exist; nothing half-written, no staging folders.
        Assert.All(Directory.GetFiles(outDir), f => Assert.StartsWith("small.", Path.GetFileName(f)));
        Assert.Empty(Directory.GetDirectories(outDir));
    }

    [SharedFact]
    public void Missing_model_and_unwritable_output_are_one_line_errors()
    {
        using var dir = new TempDir("seg");
        string slide = Path.Combine(Repo.SharedSlides, "small.svs");
        var missing = Tool.WsiSegment("segment", slide, "-o", dir.Path, "--model", dir.File("nope.safetensors"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("nope.safetensors", missing.Stderr);
        Assert.DoesNotContain("   at ", missing.Stderr);

        string file = dir.File("a-file");
        File.WriteAllText(file, "x");
        var unwritable = Tool.WsiSegment("segment", slide, "-o", Path.Combine(file, "sub"), "--model", TestModels.RandomEspNet());
        Assert.Equal(1, unwritable.ExitCode);
        Assert.Contains("a-file", unwritable.Stderr);
        Assert.Single(unwritable.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error: "));
        Assert.DoesNotContain("   at ", unwritable.Stderr);
    }
    [MountNamespaceTheory]
    [InlineData("64k")]   // not even the label spool fits
    [InlineData("400k")]  // the spool fits, the outputs do not
    [InlineData("900k")]  // most outputs fit, not all
    public void A_full_disk_gives_one_line_naming_the_file_and_leaves_nothing(string size)
    {
        using var dir = new TempDir("full");
        string output = dir.File("out");
        Directory.CreateDirectory(output);
        string dll = Path.Combine(AppContext.BaseDirectory, "wsi-segment.dll");
        string slide = Path.Combine(Repo.Root, "slides", "phantom-5.tif");
        // The output folder is a tmpfs of the given size; what is left in it is listed after the run.
        var r = MountNamespace.RunWithTmpfs(output, size,
            $"dotnet '{dll}' segment '{slide}' -o \"$0\" --model '{TestModels.Demo}' --quiet; code=$?; echo LEFT:; ls -A \"$0\"; exit $code",
            new Dictionary<string, string> { ["NO_COLOR"] = "1" });
        Assert.Equal(1, r.ExitCode);
        var error = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error: ", StringComparison.Ordinal));
        Assert.Contains("No space left on device", error);
        Assert.Contains(output, error);
        // It names the output the user will look for, not the hidden staging folder or a temporary name.
        Assert.DoesNotContain(".staging-", error);
        Assert.DoesNotContain(".part", error);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.Equal("", r.Stdout[(r.Stdout.IndexOf("LEFT:", StringComparison.Ordinal) + 5)..].Trim());
    }
}

