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
        // The help's defaults are the options record's own (the host binds the record; unset options stay unset here).
        var d = new WatchOptions();
        var inbox = new Option<string?>("--inbox") { Description = "Folder where slides arrive (Watch:Inbox)." };
        var outbox = new Option<string?>("--outbox") { Description = "Folder for outputs (OUTBOX/STEM/), status.json and summary.csv (Watch:Outbox)." };
        var doneDir = new Option<string?>("--done-dir") { Description = "Where finished slides go (default INBOX/done)." };
        var failedDir = new Option<string?>("--failed-dir") { Description = "Where failed slides go with STEM.error.json (default INBOX/failed)." };
        var leaveInPlace = new Option<bool>("--leave-in-place") { Description = "Leave finished slides in the inbox instead of moving them to done/." };
        var stable = new Option<double?>("--stable-seconds") { Description = $"Take a slide once its size and mtime are unchanged this long (default {d.StableSeconds:0.###})." };
        var rescan = new Option<double?>("--rescan-seconds") { Description = $"Full inbox rescan interval besides file-system events (default {d.RescanSeconds:0.###})." };
        var lease = new Option<double?>("--lease-seconds") { Description = $"Claim lease; a claim not renewed this long is taken back (default {d.LeaseSeconds:0.###})." };
        var attempts = new Option<int?>("--max-attempts") { Description = $"Attempts per slide for transient errors (default {d.MaxAttempts})." };
        var crashes = new Option<int?>("--max-crashes") { Description = $"Attempts per slide that may crash the worker before the slide goes to failed/ (default {d.MaxCrashes})." };
        var isolation = new Option<string?>("--isolation") { Description = $"process (each slide in a supervised worker process, replaced after a crash) or none (in the service's own process) (default {d.Isolation})." };
        var grace = new Option<double?>("--grace-seconds") { Description = $"On SIGTERM/Ctrl+C the current slide may finish this long, then it is put back (default {d.GraceSeconds:0.###})." };
        var metricsPort = new Option<int?>("--metrics-port") { Description = $"Serve Prometheus metrics on this port (default {d.MetricsPort}: off)." };
        var statusFile = new Option<string?>("--status-file") { Description = $"Status file name in the outbox (default {d.StatusFile})." };
        var force = new Option<bool>("--force") { Description = "Redo slides whose outputs exist with the same slide and model hash." };
        var settings = new Option<string?>("--settings") { Description = "Extra JSON settings file (after appsettings.json, before environment variables)." };
        var segment = new SegmentOptionSet();
        var slurm = new SlurmExecutorOptionSet();
        // The web view inside the service.
        var serve = new Option<bool>("--serve") { Description = "Also serve the web view of the outbox, queue and failures (see `serve`)." };
        var serveUrls = new Option<string>("--urls") { Description = "With --serve: where to listen (default http://127.0.0.1:8080).", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var serveToken = new Option<string?>("--token-file") { Description = "With --serve: access token file (required beyond loopback)." };

        var cmd = new Command(Name, "Watch an inbox folder and segment every slide that arrives (a long-running service; systemd-ready).")
        {
            inbox, outbox, doneDir, failedDir, leaveInPlace, stable, rescan, lease, attempts, crashes, isolation, grace, metricsPort, statusFile, force, settings,
            serve, serveUrls, serveToken,
        };
        segment.AddTo(cmd);
        slurm.AddTo(cmd);

        cmd.SetAction((parse, ct) => CommandRunner.RunAsync(parse, Name, ct, async (logs, token) =>
        {
            var map = new CommandLineSettings(parse, WatchOptions.Section);
            map.Add(inbox, nameof(WatchOptions.Inbox));
            map.Add(outbox, nameof(WatchOptions.Outbox));
            map.Add(doneDir, nameof(WatchOptions.DoneDir));
            map.Add(failedDir, nameof(WatchOptions.FailedDir));
            map.Add(leaveInPlace, nameof(WatchOptions.LeaveInPlace));
            map.Add(stable, nameof(WatchOptions.StableSeconds));
            map.Add(rescan, nameof(WatchOptions.RescanSeconds));
            map.Add(lease, nameof(WatchOptions.LeaseSeconds));
            map.Add(attempts, nameof(WatchOptions.MaxAttempts));
            map.Add(crashes, nameof(WatchOptions.MaxCrashes));
            map.Add(isolation, nameof(WatchOptions.Isolation));
            map.Add(grace, nameof(WatchOptions.GraceSeconds));
            map.Add(metricsPort, nameof(WatchOptions.MetricsPort));
            map.Add(statusFile, nameof(WatchOptions.StatusFile));
            map.Add(force, nameof(WatchOptions.Force));
            segment.MapGiven(parse, SegmenterJob.Section, map.Values);
            slurm.Map(parse, map.Values);

            var builder = WatchHost.CreateBuilder(map.Values,
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

    /// <summary>The options the user actually gave, as configuration keys (defaults of unset options are left out).</summary>
    private sealed class CommandLineSettings(ParseResult parse, string section)
    {
        public Dictionary<string, string?> Values { get; } = new(StringComparer.OrdinalIgnoreCase);

        public void Add<T>(Option<T> option, string key)
        {
            var result = parse.GetResult(option);
            if (result is null || result.Implicit) return;
            Values[$"{section}:{key}"] = OptionValues.Format(parse.GetValue(option)) ?? "";
        }
    }
}
