using System.Globalization;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace WsiSegment.Processor.Segmentation;

/// <summary>
/// Shows pipeline progress: a Spectre.Console bar with patches/s and ETA on a terminal, plain log lines
/// (every few seconds) when output is redirected, as in CI or under systemd.
/// </summary>
public sealed class ConsoleProgress
{
    private readonly ILogger _log;
    private readonly bool _interactive;

    public ConsoleProgress(ILogger log, bool quiet)
    {
        _log = log;
        _interactive = !quiet && !Console.IsErrorRedirected && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
    }

    public async Task<T> RunAsync<T>(string slide, Func<IProgress<PipelineProgress>, Task<T>> work)
    {
        if (!_interactive)
            return await work(new LogProgress(_log));
        T result = default!;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RateColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(Path.GetFileName(slide)), maxValue: 1);
                // Progress<T> posts to the thread pool: fine for the bar, which redraws on its own clock.
                var progress = new Progress<PipelineProgress>(p =>
                {
                    task.MaxValue = Math.Max(1, p.Total);
                    task.Value = p.Done;
                    task.Description = Markup.Escape($"{Path.GetFileName(slide)} [{p.Stage}]");
                });
                result = await work(progress);
                task.Value = task.MaxValue;
            });
        return result;
    }

    private sealed class RateColumn : ProgressColumn
    {
        public override Spectre.Console.Rendering.IRenderable Render(Spectre.Console.Rendering.RenderOptions options, ProgressTask task, TimeSpan deltaTime)
        {
            double? speed = task.Speed;
            return new Text(speed is { } s ? string.Create(CultureInfo.InvariantCulture, $"{s:0.0} patches/s") : "", Style.Plain);
        }
    }

    private sealed class LogProgress(ILogger log) : IProgress<PipelineProgress>
    {
        private DateTime _last = DateTime.MinValue;
        private string _lastStage = "";

        public void Report(PipelineProgress p)
        {
            var now = DateTime.UtcNow;
            bool stageChanged = p.Stage != _lastStage;
            if (!stageChanged && (now - _last).TotalSeconds < 5 && p.Done < p.Total) return;
            _last = now;
            _lastStage = p.Stage;
            log.LogInformation("{Slide}: {Stage} {Done}/{Total} patches ({Rate:0.0}/s, ETA {Eta})",
                Path.GetFileName(p.Slide), p.Stage, p.Done, p.Total, p.PatchesPerSecond,
                p.Eta is { } eta ? eta.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "-");
        }
    }
}
