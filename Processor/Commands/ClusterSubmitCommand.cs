using System.CommandLine;
using Microsoft.Extensions.Logging;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Cluster;

namespace WsiSegment.Processor.Commands;

/// <summary>`cluster submit SLIDE…|--manifest FILE -o OUTDIR [segment options] [Slurm options] [--dry-run]`.</summary>
public static class ClusterSubmitCommand
{
    public static Command Create()
    {
        var slides = new Argument<string[]>("slides") { Description = "Slide files to segment.", Arity = ArgumentArity.ZeroOrMore };
        var manifest = new Option<string?>("--manifest") { Description = "File listing slides, one path per line (instead of, or besides, SLIDE…)." };
        var output = new Option<string>("--output", "-o") { Description = "Output folder on a file system every node sees.", Required = true };
        var perTask = new Option<int>("--slides-per-task") { Description = "Slides per array task (the model is loaded once per task).", DefaultValueFactory = _ => 8 };
        var maxRunning = new Option<int>("--max-running") { Description = "Most tasks running at once (--array=0-K%N).", DefaultValueFactory = _ => 64 };
        var jobName = new Option<string?>("--job-name") { Description = "Job name, and the folder OUTDIR/.cluster/NAME (default wsi-DATE-TIME-XXXX)." };
        var sbatch = new SbatchOptionSet("task");
        var maxRequeues = new Option<int>("--max-requeues") { Description = "Requeues for transient failures before a slide counts as failed.", DefaultValueFactory = _ => 3 };
        var dryRun = new Option<bool>("--dry-run") { Description = "Write the job folder and print the sbatch script; do not submit." };
        var segment = new SegmentOptionSet();
        var cmd = new Command("submit", "Submit slides as one Slurm job array (several slides per task).")
        {
            slides, manifest, output, perTask, maxRunning, jobName, maxRequeues, dryRun,
        };
        sbatch.AddTo(cmd);
        segment.AddTo(cmd);
        cmd.SetAction((parse, ct) => CommandRunner.RunAsync(parse, "cluster", ct, async (logs, token) =>
        {
            var log = logs.CreateLogger("wsi-segment.cluster");
            var list = new List<string>(parse.GetValue(slides) ?? []);
            if (parse.GetValue(manifest) is { } m) list.AddRange(Manifest.Read(m));
            SubmitOptions options;
            try
            {
                options = new SubmitOptions
                {
                    SlidesPerTask = parse.GetValue(perTask), MaxRunning = parse.GetValue(maxRunning), JobName = parse.GetValue(jobName),
                    Resources = sbatch.ReadUnvalidated(parse), MaxRequeues = parse.GetValue(maxRequeues),
                }.Validate();
            }
            catch (ArgumentException e) { throw new UserError(e.Message, e); }
            bool dry = parse.GetValue(dryRun);
            var seg = segment.Read(parse);
            if (!dry && SlurmClient.Unavailable() is { } why) throw new UserError(why);
            var submitted = await new ClusterSubmitter(new SlurmClient(log), log).SubmitAsync(list, parse.GetValue(output)!, seg, options, dry, token);
            if (dry)
            {
                Console.Write(submitted.ScriptText);
                Console.Error.WriteLine($"dry run: nothing submitted; the job folder is {submitted.JobDir} (submit it with: sbatch {submitted.Script})");
                return CommandRunner.Ok;
            }
            Console.WriteLine(submitted.Job.JobId);
            Console.Error.WriteLine($"submitted job {submitted.Job.JobId}: {submitted.Job.Slides} slides in {submitted.Job.Tasks} task(s); " +
                $"follow it with: wsi-segment cluster status {submitted.Job.JobId} --wait   (or: cluster status {submitted.Job.OutDir}); task logs in {Path.Combine(submitted.JobDir, "logs")}");
            return CommandRunner.Ok;
        }));
        return cmd;
    }
}
