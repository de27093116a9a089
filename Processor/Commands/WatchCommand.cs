using System.CommandLine;
using System.Globalization;
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
        var inbox = new Option<string?>("--inbox") { Description = "Folder where slides arrive (Watch:Inbox)." };
        var outbox = new Option<string?>("--outbox") { Description = "Folder for outputs (OUTBOX/STEM/), status.json and summary.csv (Watch:Outbox)." };
        var doneDir = new Option<string?>("--done-dir") { Description = "Where finished slides go (default INBOX/done)." };
        var failedDir = new Option<string?>("--failed-dir") { Description = "Where failed slides go with STEM.error.json (default INBOX/failed)." };
        var leaveInPlace = new Option<bool>("--leave-in-place") { Description = "Leave finished slides in the inbox instead of moving them to done/." };
        var stable = new Option<double?>("--stable-seconds") { Description = "Take a slide once its size and mtime are unchanged this long (default 15)." };
        var rescan = new Option<double?>("--rescan-seconds") { Description = "Full inbox rescan interval besides file-system events (default 10)." };
        var lease = new Option<double?>("--lease-seconds") { Description = "Claim lease; a claim not renewed this long is taken back (default 120)." };
        var attempts = new Option<int?>("--max-attempts") { Description = "Attempts per slide for transient errors (default 3)." };
        var crashes = new Option<int?>("--max-crashes") { Description = "Attempts per slide that may crash the worker before the slide goes to failed/ (default 2)." };
        var isolation = new Option<string?>("--isolation") { Description = "process (default: each slide in a supervised worker process, replaced after a crash) or none (in the service's own process)." };
        var grace = new Option<double?>("--grace-seconds") { Description = "On SIGTERM/Ctrl+C the current slide may finish this long, then it is put back (default 60)." };
        var metricsPort = new Option<int?>("--metrics-port") { Description = "Serve Prometheus metrics on this port (default 0: off)." };
        var statusFile = new Option<string?>("--status-file") { Description = "Status file name in the outbox (default status.json)." };
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
            var map = new CommandLineSettings(parse);
            map.Add(inbox, "Watch:Inbox", v => v);
            map.Add(outbox, "Watch:Outbox", v => v);
            map.Add(doneDir, "Watch:DoneDir", v => v);
            map.Add(failedDir, "Watch:FailedDir", v => v);
            map.Add(leaveInPlace, "Watch:LeaveInPlace", Bool);
            map.Add(stable, "Watch:StableSeconds", Num);
            map.Add(rescan, "Watch:RescanSeconds", Num);
            map.Add(lease, "Watch:LeaseSeconds", Num);
            map.Add(attempts, "Watch:MaxAttempts", v => Num(v));
            map.Add(crashes, "Watch:MaxCrashes", v => Num(v));
            map.Add(isolation, "Watch:Isolation", v => v);
            map.Add(grace, "Watch:GraceSeconds", Num);
            map.Add(metricsPort, "Watch:MetricsPort", v => Num(v));
            map.Add(statusFile, "Watch:StatusFile", v => v);
            map.Add(force, "Watch:Force", Bool);
            const string s = SegmenterJob.Section + ":";
            map.Add(segment.Model, s + "ModelPath", v => v);
            map.Add(segment.Mpp, s + "Mpp", Num);
            map.Add(segment.AssumeMpp, s + "AssumeMpp", Num);
            map.Add(segment.Level, s + "Level", v => Num(v));
            map.Add(segment.Tile, s + "Tile", v => Num(v));
            map.Add(segment.Overlap, s + "Overlap", v => Num(v));
            map.Add(segment.Batch, s + "BatchSize", v => Num(v));
            map.Add(segment.Blend, s + "Blend", v => v.ToString());
            map.Add(segment.NoTissueMask, s + "TissueMask", v => Bool(!v));
            map.Add(segment.MinTissue, s + "MinTissueFraction", v => Num(v));
            map.Add(segment.Device, s + "Device", v => v);
            map.Add(segment.Precision, s + "Precision", v => v);
            map.Add(segment.Threads, s + "Threads", v => Num(v));
            map.Add(segment.NoGeoJson, s + "WriteGeoJson", v => Bool(!v));
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

    private static string Bool(bool v) => v ? "true" : "false";
    private static string Num(double? v) => v?.ToString("R", CultureInfo.InvariantCulture) ?? "";
    private static string Num(int? v) => v?.ToString(CultureInfo.InvariantCulture) ?? "";

    /// <summary>The options the user actually gave, as configuration keys (defaults of unset options are left out).</summary>
    private sealed class CommandLineSettings(ParseResult parse)
    {
        public Dictionary<string, string?> Values { get; } = new(StringComparer.OrdinalIgnoreCase);

        public void Add<T>(Option<T> option, string key, Func<T, string?> format)
        {
            var result = parse.GetResult(option);
            if (result is null || result.Implicit) return;
            Values[key] = format(parse.GetValue(option)!);
        }
    }
}
