using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using WsiSegment.Processor.Cli;

namespace WsiSegment.Processor.Watch.Isolation;

/// <summary>The job of `watch --executor local`: slides in a supervised worker process (Watch:Isolation = process, the
/// default) or in the service's own process (none).</summary>
public static class LocalExecutor
{
    public const string IsolationKey = WatchOptions.Section + ":Isolation";

    public static ISlideJob CreateJob(IConfiguration configuration, ILoggerFactory logs) =>
        (configuration[IsolationKey] ?? WatchOptions.DefaultIsolation).ToLowerInvariant() switch
        {
            "process" => IsolatedSlideJob.Create(configuration, logs),
            "none" => SegmenterJob.Create(configuration, logs),
            var other => throw new UserError($"--isolation {other}: use process or none"),
        };
}
