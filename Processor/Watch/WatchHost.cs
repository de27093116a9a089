using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace WsiSegment.Processor.Watch;

/// <summary>
/// Builds the watch service's host. Configuration in the usual .NET precedence, later wins: appsettings.json beside the
/// executable, an optional settings file, WSISEGMENT_-prefixed environment variables (WSISEGMENT_Watch__Inbox), then
/// the command line. Runs in the foreground or under systemd (notify, journal-formatted logs).
/// </summary>
public static class WatchHost
{
    public const string EnvironmentPrefix = "WSISEGMENT_";

    /// <summary>Extra seconds the host waits beyond the slide's grace period before it gives up stopping.</summary>
    public const double ShutdownMarginSeconds = 15;

    public static HostApplicationBuilder CreateBuilder(
        IReadOnlyDictionary<string, string?> commandLine,
        Func<IServiceProvider, ISlideJob> createJob,
        LogLevel logLevel = LogLevel.Information,
        string? settingsFile = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true, reloadOnChange: false);
        if (settingsFile is not null)
            builder.Configuration.AddJsonFile(Path.GetFullPath(settingsFile), optional: false, reloadOnChange: false);
        builder.Configuration.AddEnvironmentVariables(EnvironmentPrefix);
        builder.Configuration.AddInMemoryCollection(commandLine);

        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(logLevel);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
            o.ColorBehavior = Console.IsErrorRedirected ? LoggerColorBehavior.Disabled : LoggerColorBehavior.Default;
        });
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        // Under systemd: sd_notify readiness/stopping and journal-friendly log lines; a no-op elsewhere.
        builder.Services.AddSystemd();

        builder.Services.AddSingleton<IValidateOptions<WatchOptions>, WatchOptionsValidator>();
        builder.Services.AddOptions<WatchOptions>().Bind(builder.Configuration.GetSection(WatchOptions.Section)).ValidateOnStart();
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<WatchOptions>>((h, w) =>
            h.ShutdownTimeout = TimeSpan.FromSeconds(w.Value.GraceSeconds + ShutdownMarginSeconds));
        builder.Services.AddSingleton<SlideJobFactory>(sp => () => createJob(sp));
        builder.Services.AddHostedService<SlideWatchWorker>();
        return builder;
    }
}
