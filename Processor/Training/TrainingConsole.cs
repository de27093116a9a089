using System.Globalization;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using WsiSegment.Model.Training;

namespace WsiSegment.Processor.Training;

/// <summary>
/// Shows training progress: a Spectre.Console bar per epoch phase on a terminal, a log line every ~10 s when
/// output is redirected (CI, nohup, systemd).
/// </summary>
public sealed class TrainingConsole(ILogger log, bool quiet)
{
    private readonly bool _interactive = !quiet && !Console.IsErrorRedirected && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    public T Run<T>(Func<IProgress<TrainingProgress>, T> work)
    {
        if (!_interactive) return work(new LogProgress(log));
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("training", maxValue: 1);
                result = work(new BarProgress(task));
            });
        return result;
    }

    private static string Describe(TrainingProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"{p.Stage.ToString().ToLowerInvariant()} epoch {p.Epoch}/{p.Epochs} {p.Phase} loss {p.Loss:0.0000} ({p.PatchesPerSecond:0.0} patches/s)");

    private sealed class BarProgress(ProgressTask task) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p)
        {
            task.MaxValue = Math.Max(1, p.Total);
            task.Value = p.Done;
            task.Description = Markup.Escape(Describe(p));
        }
    }

    private sealed class LogProgress(ILogger log) : IProgress<TrainingProgress>
    {
        private DateTime _last = DateTime.UtcNow;

        public void Report(TrainingProgress p)
        {
            var now = DateTime.UtcNow;
            if ((now - _last).TotalSeconds < 10 || p.Done == p.Total) return;
            _last = now;
            log.LogInformation("{Progress}: batch {Done}/{Total}", Describe(p), p.Done, p.Total);
        }
    }
}
