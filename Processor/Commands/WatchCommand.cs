using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Watch;

namespace WsiSegment.Processor.Commands;

/// <summary>
/// `wsi-segment watch --inbox DIR --outbox DIR [--model CKPT] [segment options…]`: the watch-folder batch service.
/// Builds a host whose settings come from appsettings.json, WSISEGMENT_ environment variables and, last, the options
/// given here (mapped onto the "Watch" configuration keys; options not given leave the other sources in charge).
/// </summary>
public static class WatchCommand
{
    public const string Name = "watch";

    public static Command Create()
    {
        var watch = new WatchOptionSet();
        var settings = new Option<string?>("--settings") { Description = "Extra JSON settings file (after appsettings.json, before environment variables)." };
        var segment = new SegmentOptionSet();
        var slurm = new SlurmExecutorOptionSet();
        // The web view inside the service.
        var serve = new Option<bool>("--serve") { Description = "Also serve the web view of the outbox, queue and failures (see `serve`)." };
        var serveUrls = new Option<string>("--urls") { Description = "With --serve: where to listen (default http://127.0.0.1:8080).", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var serveToken = new Option<string?>("--token-file") { Description = "With --serve: access token file (required beyond loopback)." };

        var cmd = new Command(Name, "Watch an inbox folder and segment every slide that arrives (a long-running service; systemd-ready).");
        watch.AddTo(cmd);
        foreach (var option in new Option[] { settings, serve, serveUrls, serveToken }) cmd.Options.Add(option);
        segment.AddTo(cmd);
        slurm.AddTo(cmd);

        cmd.SetAction((parse, ct) => CommandRunner.RunAsync(parse, Name, ct, async (logs, token) =>
        {
            var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            watch.MapGiven(parse, WatchOptions.Section, values);
            segment.MapGiven(parse, SegmenterJob.Section, values);
            slurm.Map(parse, values);

            var builder = WatchHost.CreateBuilder(values,
                sp => SlurmExecutorOptionSet.CreateJob(sp.GetRequiredService<IConfiguration>(), sp.GetRequiredService<ILoggerFactory>()),
                GlobalOptions.LogLevelOf(parse), parse.GetValue(settings));
            using var host = builder.Build();
            try
            {
                await using var web = parse.GetValue(serve)
                    ? await Web.WatchWebView.StartAsync(host.Services, parse.GetValue(serveUrls)!, parse.GetValue(serveToken), GlobalOptions.LogLevelOf(parse), token)
                    : null;
                // Signals are the host's: SIGTERM/Ctrl+C stop it (with the grace period for the current slide).
                await host.RunAsync(token);
            }
            catch (OptionsValidationException e)
            {
                throw new UserError("watch settings: " + string.Join("; ", e.Failures));
            }
            return CommandRunner.Ok;
        }));
        return cmd;
    }
}
