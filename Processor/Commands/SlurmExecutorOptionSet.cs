using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Cluster;
using WsiSegment.Processor.Watch;

namespace WsiSegment.Processor.Commands;

/// <summary>
/// `watch --executor local|slurm` and the Slurm executor's options, mapped onto "Watch:Executor" and "Watch:Slurm:*"
/// (so appsettings.json and WSISEGMENT_ variables can set them too), and the choice of <see cref="ISlideJob"/>.
/// </summary>
public sealed class SlurmExecutorOptionSet
{
    public const string ExecutorKey = WatchOptions.Section + ":Executor";

    public readonly Option<string?> Executor = new("--executor") { Description = "local (default: segment in this process) or slurm (each slide as a Slurm job)." };
    public readonly SbatchOptionSet Sbatch = new("job", " (--executor slurm)");
    private static readonly SlurmWatchOptions Defaults = new();
    public readonly Option<int?> MaxJobs = new("--max-jobs") { Description = $"Slides in flight at once as Slurm jobs (default {Defaults.MaxJobs}; --executor slurm)." };
    public readonly Option<double?> Poll = new("--poll-seconds") { Description = $"Seconds between looks at a running job (default {Defaults.PollSeconds:0.###}; --executor slurm)." };

    public void AddTo(Command cmd)
    {
        cmd.Options.Add(Executor);
        Sbatch.AddTo(cmd);
        cmd.Options.Add(MaxJobs);
        cmd.Options.Add(Poll);
    }

    /// <summary>Adds the options the user gave as configuration keys.</summary>
    public void Map(ParseResult parse, IDictionary<string, string?> values)
    {
        void Put<T>(Option<T> o, string key) { if (parse.GetResult(o) is { Implicit: false }) values[key] = OptionValues.Format(parse.GetValue(o)); }
        Put(Executor, ExecutorKey);
        Sbatch.MapGiven(parse, SlurmWatchOptions.Section, values);
        Put(MaxJobs, $"{SlurmWatchOptions.Section}:{nameof(SlurmWatchOptions.MaxJobs)}");
        Put(Poll, $"{SlurmWatchOptions.Section}:{nameof(SlurmWatchOptions.PollSeconds)}");
    }

    public static ISlideJob CreateJob(IConfiguration configuration, ILoggerFactory logs) =>
        (configuration[ExecutorKey] ?? "local").ToLowerInvariant() switch
        {
            "local" => Watch.Isolation.LocalExecutor.CreateJob(configuration, logs),
            "slurm" => SlurmSlideJob.Create(configuration, logs),
            var other => throw new UserError($"--executor {other}: use local or slurm"),
        };
}
