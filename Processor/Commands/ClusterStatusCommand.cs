using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Cluster;

namespace WsiSegment.Processor.Commands;

/// <summary>`cluster status JOBID|OUTDIR [--json] [--wait]`: per-slide state; exit 1 when a slide failed.</summary>
public static class ClusterStatusCommand
{
    public static Command Create()
    {
        var target = new Argument<string>("job") { Description = "Job id, the output folder (its newest job) or a job folder OUTDIR/.cluster/NAME." };
        var outDir = new Option<string?>("--output", "-o") { Description = "Output folder to look for the job id in, once Slurm has forgotten the job." };
        var json = new Option<bool>("--json") { Description = "Print the state as JSON." };
        var wait = new Option<bool>("--wait") { Description = "Follow the job with a progress bar until its array has ended." };
        var interval = new Option<double>("--interval") { Description = "Seconds between looks with --wait.", DefaultValueFactory = _ => 2 };
        var cmd = new Command("status", "Per-slide state of a cluster job: pending, running, done, failed (with the reason), requeues.") { target, outDir, json, wait, interval };
        cmd.SetAction((parse, ct) => CommandRunner.RunAsync(parse, "cluster", ct, async (logs, token) =>
        {
            var reader = new ClusterStatusReader(new SlurmClient(logs.CreateLogger("wsi-segment.cluster")));
            string jobDir = await reader.FindJobDirAsync(parse.GetValue(target)!, parse.GetValue(outDir), token);
            var every = TimeSpan.FromSeconds(Math.Max(0.2, parse.GetValue(interval)));
            JobStatus status = await reader.ReadAsync(jobDir, token);
            if (parse.GetValue(wait) && !status.Finished)
            {
                if (parse.GetValue(json) || parse.GetValue(GlobalOptions.Quiet) || Console.IsErrorRedirected)
                {
                    while (!status.Finished) { await Task.Delay(every, token); status = await reader.ReadAsync(jobDir, token); }
                }
                else
                {
                    await AnsiConsole.Progress().StartAsync(async ctx =>
                    {
                        var bar = ctx.AddTask(Markup.Escape($"job {status.JobId} ({status.Name})"), maxValue: status.Slides.Count);
                        while (true)
                        {
                            bar.Value = status.Count(SlideState.Done) + status.Count(SlideState.Failed) + status.Count(SlideState.Incomplete);
                            bar.Description = Markup.Escape($"job {status.JobId}: {status.Count(SlideState.Done)} done, {status.Count(SlideState.Running)} running, " +
                                $"{status.Count(SlideState.Pending)} pending, {status.Count(SlideState.Failed)} failed");
                            if (status.Finished) break;
                            await Task.Delay(every, token);
                            status = await reader.ReadAsync(jobDir, token);
                        }
                    });
                }
            }
            if (parse.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(Summary(status), JsonOutput.Options));
            else Print(status);
            return status.AnyFailed ? CommandRunner.Failed : CommandRunner.Ok;
        }));
        return cmd;
    }

    private static object Summary(JobStatus s) => new
    {
        s.Name, s.JobId, s.OutDir, s.Finished, s.Source,
        Counts = new[] { SlideState.Done, SlideState.Running, SlideState.Pending, SlideState.Failed, SlideState.Incomplete }
            .ToDictionary(k => k, s.Count),
        s.Slides,
    };

    private static void Print(JobStatus s)
    {
        var table = new Table().Title(Markup.Escape($"job {s.JobId ?? "(not submitted)"} {s.Name} → {s.OutDir}"))
            .AddColumns("slide", "task", "state", "requeues", "node", "reason");
        foreach (var x in s.Slides)
            table.AddRow(Markup.Escape(Path.GetFileName(x.Slide)), x.Task.ToString(System.Globalization.CultureInfo.InvariantCulture), x.State,
                x.Requeues.ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(x.Node ?? ""), Markup.Escape(x.Reason ?? ""));
        table.Caption(Markup.Escape($"{s.Count(SlideState.Done)} done, {s.Count(SlideState.Running)} running, {s.Count(SlideState.Pending)} pending, " +
            $"{s.Count(SlideState.Failed)} failed, {s.Count(SlideState.Incomplete)} incomplete; {(s.Finished ? "ended" : "in progress")} (from {s.Source})"));
        AnsiConsole.Write(table);
    }
}
