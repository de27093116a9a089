using System.CommandLine;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Cluster;

namespace WsiSegment.Processor.Commands;

/// <summary>The #SBATCH fields of `cluster submit` and of `watch --executor slurm`, declared once against
/// <see cref="SbatchResources"/> (configuration keys "Watch:Slurm:Partition", …).</summary>
public sealed class SbatchOptionSet : OptionSet<SbatchResources>
{
    /// <param name="per">What one Slurm job is: "task" (an array task) or "job" (one slide).</param>
    /// <param name="note">Appended to each description (e.g. which executor they apply to).</param>
    public SbatchOptionSet(string per, string note = "")
    {
        Partition = Bind(new Option<string?>("--partition", "-p") { Description = "Slurm partition" + note + "." },
            nameof(SbatchResources.Partition), o => o.Partition, (o, v) => o with { Partition = v });
        Gres = Bind(new Option<string?>("--gres") { Description = $"Generic resources per {per}, e.g. gpu:1{note}." },
            nameof(SbatchResources.Gres), o => o.Gres, (o, v) => o with { Gres = v });
        Cpus = Bind(new Option<int?>("--cpus-per-task", "-c") { Description = $"CPUs per {per} (inference threads follow it; default 1){note}." },
            nameof(SbatchResources.CpusPerTask), o => o.CpusPerTask, (o, v) => o with { CpusPerTask = v });
        Mem = Bind(new Option<string?>("--mem") { Description = "Memory per node, e.g. 8G" + note + "." },
            nameof(SbatchResources.Mem), o => o.Mem, (o, v) => o with { Mem = v });
        Time = Bind(new Option<string?>("--time", "-t") { Description = $"Time limit per {per}, e.g. 02:00:00{note}." },
            nameof(SbatchResources.Time), o => o.Time, (o, v) => o with { Time = v });
        Account = Bind(new Option<string?>("--account", "-A") { Description = "Account to charge" + note + "." },
            nameof(SbatchResources.Account), o => o.Account, (o, v) => o with { Account = v });
        SbatchArg = Bind(new Option<string[]>("--sbatch-arg")
            {
                Description = $"Any other sbatch option, as an #SBATCH line (repeatable), e.g. --sbatch-arg=--qos=short{note}.",
                AllowMultipleArgumentsPerToken = false,
            },
            nameof(SbatchResources.SbatchArgs), o => o.SbatchArgs.ToArray(), (o, v) => o with { SbatchArgs = v ?? [] });
    }

    public Option<string?> Partition { get; }
    public Option<string?> Gres { get; }
    public Option<int?> Cpus { get; }
    public Option<string?> Mem { get; }
    public Option<string?> Time { get; }
    public Option<string?> Account { get; }
    public Option<string[]> SbatchArg { get; }
}
