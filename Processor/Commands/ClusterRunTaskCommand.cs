using System.CommandLine;
using System.Runtime.InteropServices;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Cluster;

namespace WsiSegment.Processor.Commands;

/// <summary>`cluster run-task MANIFEST --index N`: what each array task of a submitted job runs.</summary>
public static class ClusterRunTaskCommand
{
    public const string Name = "run-task";

    public static Command Create()
    {
        var manifest = new Argument<string>("manifest") { Description = "The job's manifest.txt (its folder holds job.json and segment.json)." };
        var index = new Option<int>("--index") { Description = "Array task index (SLURM_ARRAY_TASK_ID).", Required = true };
        var cmd = new Command(Name, "Run one array task of a cluster job (called by the job's sbatch script).") { manifest, index };
        cmd.SetAction((parse, ct) => CommandRunner.RunAsync(parse, "cluster", ct, async (logs, token) =>
        {
            // SIGTERM (scancel, time limit, preemption, node shutdown) and SIGINT cancel the slide in hand: its staged
            // outputs are removed and the task exits for requeue, before Slurm's KillWait ends in SIGKILL.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            try
            {
                return await new TaskRunner(logs).RunAsync(parse.GetValue(manifest)!, parse.GetValue(index), stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Stopped by a signal (preemption, scancel --signal, node shutdown): ask Slurm to run it again.
                return SbatchScript.RequeueExitCode;
            }
        }));
        return cmd;
    }
}
