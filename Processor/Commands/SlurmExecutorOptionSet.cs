using System.CommandLine;
using System.Globalization;
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
    public readonly Option<string?> Partition = new("--partition") { Description = "Slurm partition (--executor slurm)." };
    public readonly Option<string?> Gres = new("--gres") { Description = "Generic resources per job, e.g. gpu:1 (--executor slurm)." };
    public readonly Option<int?> Cpus = new("--cpus-per-task") { Description = "CPUs per job (--executor slurm)." };
    public readonly Option<string?> Mem = new("--mem") { Description = "Memory per job, e.g. 8G (--executor slurm)." };
    public readonly Option<string?> Time = new("--time") { Description = "Time limit per job (--executor slurm)." };
    public readonly Option<string?> Account = new("--account") { Description = "Account to charge (--executor slurm)." };
    public readonly Option<string[]> SbatchArg = new("--sbatch-arg") { Description = "Other sbatch options as #SBATCH lines (repeatable; --executor slurm)." };
    public readonly Option<int?> MaxJobs = new("--max-jobs") { Description = "Slides in flight at once as Slurm jobs (default 16; --executor slurm)." };
    public readonly Option<double?> Poll = new("--poll-seconds") { Description = "Seconds between looks at a running job (default 1; --executor slurm)." };

    public void AddTo(Command cmd)
    {
        foreach (var o in new Option[] { Executor, Partition, Gres, Cpus, Mem, Time, Account, SbatchArg, MaxJobs, Poll }) cmd.Options.Add(o);
    }

    /// <summary>Adds the options the user gave as configuration keys.</summary>
    public void Map(ParseResult parse, IDictionary<string, string?> values)
    {
        void Put<T>(Option<T> o, string key, Func<T, string?> f) { if (parse.GetResult(o) is { Implicit: false }) values[key] = f(parse.GetValue(o)!); }
        const string s = SlurmWatchOptions.Section + ":";
        Put(Executor, ExecutorKey, v => v);
        Put(Partition, s + "Partition", v => v);
        Put(Gres, s + "Gres", v => v);
        Put(Cpus, s + "CpusPerTask", v => v?.ToString(CultureInfo.InvariantCulture));
        Put(Mem, s + "Mem", v => v);
        Put(Time, s + "Time", v => v);
        Put(Account, s + "Account", v => v);
        Put(MaxJobs, s + "MaxJobs", v => v?.ToString(CultureInfo.InvariantCulture));
        Put(Poll, s + "PollSeconds", v => v?.ToString("R", CultureInfo.InvariantCulture));
        var extra = parse.GetValue(SbatchArg) ?? [];
        for (int i = 0; i < extra.Length; i++) values[$"{s}SbatchArgs:{i}"] = extra[i];
    }

    public static ISlideJob CreateJob(IConfiguration configuration, ILoggerFactory logs) =>
        (configuration[ExecutorKey] ?? "local").ToLowerInvariant() switch
        {
            "local" => Watch.Isolation.LocalExecutor.CreateJob(configuration, logs),
            "slurm" => SlurmSlideJob.Create(configuration, logs),
            var other => throw new UserError($"--executor {other}: use local or slurm"),
        };
}
