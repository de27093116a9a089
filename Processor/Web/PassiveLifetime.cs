using Microsoft.Extensions.Hosting;

namespace WsiSegment.Processor.Web;

/// <summary>A lifetime that leaves SIGTERM/Ctrl+C alone: the web view inside `watch` stops when the watch host does.</summary>
public sealed class PassiveLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
