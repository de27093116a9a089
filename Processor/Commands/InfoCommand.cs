using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using WsiSegment.Processor.Cli;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Processor.Commands;

/// <summary>`wsi-segment info SLIDE…`: what each slide is (format, levels, MPP, associated images).</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var slides = new Argument<string[]>("slides") { Description = "Slide files to describe.", Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "Print one JSON document (an array of slides) for machines." };
        var cmd = new Command("info", "Describe slides: format, pyramid levels, resolution, associated images.") { slides, json };
        cmd.SetAction((parse, ct) => CommandRunner.RunAsync(parse, "info", ct, (logs, _) =>
        {
            var log = logs.CreateLogger("wsi-segment.info");
            var infos = new List<SlideInfo>();
            int failures = 0;
            foreach (var path in parse.GetValue(slides)!)
            {
                try
                {
                    using var slide = SlideSource.Open(path);
                    slide.Verify();
                    infos.Add(slide.Info);
                    if (!parse.GetValue(json)) Print(slide.Info);
                }
                catch (Exception e) when (e is SlideException or IOException or UnauthorizedAccessException)
                {
                    failures++;
                    Console.Error.WriteLine($"error: {CommandRunner.Describe(e)}");
                    log.LogDebug(e, "info failed for {Slide}", path);
                }
            }
            if (parse.GetValue(json))
                Console.Out.WriteLine(JsonSerializer.Serialize(infos, JsonOutput.Options));
            return Task.FromResult(failures == 0 ? CommandRunner.Ok : CommandRunner.Failed);
        }));
        return cmd;
    }

    private static void Print(SlideInfo info)
    {
        var c = CultureInfo.InvariantCulture;
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("[bold]slide[/]", Markup.Escape(info.Path));
        grid.AddRow("format", Markup.Escape($"{info.Format} (read by {info.Reader})"));
        grid.AddRow("file size", Markup.Escape(FormatBytes(info.FileBytes)));
        grid.AddRow("MPP (µm/px)", info.MppX is { } mx ? string.Format(c, "{0:0.####} x {1:0.####}", mx, info.MppY ?? mx) : "[yellow]not recorded[/]");
        grid.AddRow("objective", info.ObjectivePower is { } op ? string.Format(c, "{0:0.#}x", op) : "-");
        grid.AddRow("associated", info.AssociatedImages.Count > 0 ? Markup.Escape(string.Join(", ", info.AssociatedImages)) : "-");
        foreach (var warning in info.Warnings) grid.AddRow("[yellow]warning[/]", Markup.Escape(warning));
        AnsiConsole.Write(grid);
        var table = new Table().AddColumns("level", "width", "height", "downsample");
        foreach (var l in info.Levels)
            table.AddRow(l.Index.ToString(c), l.Width.ToString(c), l.Height.ToString(c), l.Downsample.ToString("0.###", c));
        AnsiConsole.Write(table);
        AnsiConsole.WriteLine();
    }

    internal static string FormatBytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => string.Format(CultureInfo.InvariantCulture, "{0:0.0} KiB", bytes / 1024.0),
        < 1024L * 1024 * 1024 => string.Format(CultureInfo.InvariantCulture, "{0:0.0} MiB", bytes / 1048576.0),
        _ => string.Format(CultureInfo.InvariantCulture, "{0:0.00} GiB", bytes / 1073741824.0),
    };
}
