using System.Text.Json;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Commands;

public class InfoCommandTests
{
    [SharedFact]
    public void Json_output_lists_levels_and_mpp_of_each_slide()
    {
        var r = Tool.WsiSegment("info", "--json",
            Path.Combine(Repo.SharedSlides, "CMU-1-Small-Region.svs"), Path.Combine(Repo.SharedSlides, "test3-DAPI-2-_387_.ndpi"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var slides = doc.RootElement.EnumerateArray().ToArray();
        Assert.Equal(2, slides.Length);
        Assert.Equal("aperio", slides[0].GetProperty("format").GetString());
        Assert.Equal(0.499, slides[0].GetProperty("mppX").GetDouble(), 6);
        Assert.Equal(20, slides[0].GetProperty("objectivePower").GetDouble());
        Assert.Equal("hamamatsu", slides[1].GetProperty("format").GetString());
        Assert.Equal(7, slides[1].GetProperty("levels").GetArrayLength());
        Assert.Equal(496, slides[1].GetProperty("levels")[3].GetProperty("width").GetInt32());
    }

    [SharedFact]
    public void Human_output_shows_format_levels_and_associated_images()
    {
        var r = Tool.WsiSegment("info", Path.Combine(Repo.SharedSlides, "CMU-1-Small-Region.svs"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("aperio", r.Stdout);
        Assert.Contains("2220", r.Stdout);
        Assert.Contains("0.499", r.Stdout);
        Assert.Contains("label, macro, thumbnail", r.Stdout);
    }

    public static TheoryData<string, string> BadInputs => new()
    {
        { "missing.svs", "no such file" },
        { "adir", "directory" },
        { "zero.svs", "empty" },
        { "text.svs", "not a slide" },
        { "truncated.tif", "" },
        { "unreadable.svs", "decoded" },
        { "broken.svs", "not a slide" },
    };

    [SharedTheory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_gives_one_line_naming_the_file_and_no_stack_trace(string name, string reason)
    {
        using var dir = new TempDir("info");
        string path = name switch
        {
            "unreadable.svs" or "broken.svs" => Path.Combine(Repo.SharedSlides, name),
            _ => dir.File(name),
        };
        if (name == "adir") Directory.CreateDirectory(path);
        if (name == "zero.svs") File.WriteAllBytes(path, []);
        if (name == "text.svs") File.WriteAllText(path, "hello, I am text\n");
        if (name == "truncated.tif")
        {
            var whole = File.ReadAllBytes(Path.Combine(Repo.SharedSlides, "CMU-1-Small-Region.svs"));
            File.WriteAllBytes(path, whole[..(whole.Length / 2)]);
        }

        var r = Tool.WsiSegment("info", path);

        Assert.NotEqual(0, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, "expected one line, got:\n" + r.Stderr);
        Assert.StartsWith("error: " + path + ": ", lines[0]);
        Assert.Contains(reason, lines[0]);
        Assert.DoesNotContain("   at ", r.Stderr + r.Stdout);
        Assert.DoesNotContain("Exception", r.Stderr);
    }

    [SharedFact]
    public void One_bad_slide_does_not_stop_the_others()
    {
        var r = Tool.WsiSegment("info", "--json", Path.Combine(Repo.SharedSlides, "broken.svs"), Path.Combine(Repo.SharedSlides, "small.svs"));
        Assert.Equal(1, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(1, doc.RootElement.GetArrayLength());
        Assert.Contains("broken.svs", r.Stderr);
    }
}
