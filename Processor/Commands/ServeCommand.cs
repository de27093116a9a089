using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Web;

namespace WsiSegment.Processor.Commands;

/// <summary>`wsi-segment serve OUTDIR… [--slides DIR…] [--urls URL] [--token-file F]`: the results in a browser.</summary>
public static class ServeCommand
{
    public const string Name = "serve";

    public static readonly Option<string> Urls = new("--urls")
    {
        Description = "Where to listen (default http://127.0.0.1:8080; port 0 picks a free one). Any address but loopback needs --token-file.",
        DefaultValueFactory = _ => "http://127.0.0.1:8080",
    };

    public static readonly Option<string?> TokenFile = new("--token-file") { Description = "File holding the access token (at least 16 characters)." };

    public static Command Create()
    {
        var outDirs = new Argument<string[]>("OUTDIR") { Description = "Output folders of segment or watch (searched for SLIDE.json reports).", Arity = ArgumentArity.OneOrMore };
        var slides = new Option<string[]>("--slides") { Description = "Folders holding the source slides, when not under OUTDIR.", AllowMultipleArgumentsPerToken = true };
        var cacheMb = new Option<int>("--cache-mb") { Description = "Memory for encoded tiles, MiB (default 128).", DefaultValueFactory = _ => 128 };
        var cmd = new Command(Name, "Serve a web view of segmented slides: deep-zoom slide with the mask overlay, class areas, downloads.")
            { outDirs, slides, Urls, TokenFile, cacheMb };
        cmd.SetAction((parse, ct) => CommandRunner.RunAsync(parse, Name, ct, async (_, token) =>
        {
            var options = new ServeOptions
            {
                OutDirs = parse.GetValue(outDirs)!,
                SlideDirs = parse.GetValue(slides) ?? [],
                Urls = parse.GetValue(Urls)!,
                TokenFile = parse.GetValue(TokenFile),
                TileCacheBytes = (long)Math.Max(0, parse.GetValue(cacheMb)) << 20,
            };
            await RunAsync(options, GlobalOptions.LogLevelOf(parse), token);
            return CommandRunner.Ok;
        }));
        return cmd;
    }

    /// <summary>Starts the server, prints where it listens (one "serving URL" line per address on stdout), runs until cancelled.</summary>
    public static async Task RunAsync(ServeOptions options, LogLevel logLevel, CancellationToken token)
    {
        await using var app = Start(options, logLevel);
        await app.StartAsync(token);
        foreach (var a in ServeApp.Addresses(app)) Console.WriteLine("serving " + a);
        app.Logger.LogInformation("Serving {Slides} segmented slides from {Folders} at {Urls} ({Access})",
            app.Services.GetRequiredService<SlideCatalog>().All().Count, string.Join(", ", options.OutDirs), string.Join(", ", ServeApp.Addresses(app)),
            options.TokenFile is null ? "loopback only" : "token required");
        await app.WaitForShutdownAsync(token);
    }

    private static Microsoft.AspNetCore.Builder.WebApplication Start(ServeOptions options, LogLevel logLevel)
    {
        try { return ServeApp.Build(options, logLevel); }
        catch (ArgumentException e) { throw new UserError(e.Message, e); }
    }
}
