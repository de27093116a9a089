using Microsoft.Extensions.Logging;

namespace WsiSegment.Processor.Watch;

/// <summary>
/// A job that can have several slides in flight (the Slurm executor: the work runs on cluster nodes, the service only
/// submits and follows). The worker then hands slides to <see cref="ConcurrentDispatch"/> instead of one at a time.
/// </summary>
public interface IConcurrentSlideJob
{
    int MaxConcurrentSlides { get; }
}

/// <summary>
/// The watch loop for <see cref="IConcurrentSlideJob"/>s: up to N slides handled at once, each by the same
/// <see cref="SlideHandler"/> as in the one-at-a-time loop (claim, move, job, records). A slide already in hand is
/// not handed out again; on stop every slide in hand gets its grace period and this returns when all have ended.
/// </summary>
public sealed class ConcurrentDispatch(InboxDiscovery discovery, SlideHandler handler, int maxSlides, TimeSpan rescan, ILogger log)
{
    public async Task RunAsync(CancellationToken stop)
    {
        var inHand = new Dictionary<string, Task>();
        long seen = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var snapshot = await discovery.WaitNewerAsync(seen, rescan, stop);
                seen = snapshot.Version;
                foreach (var name in inHand.Where(p => p.Value.IsCompleted).Select(p => p.Key).ToList()) inHand.Remove(name);
                foreach (var unit in snapshot.Ready)
                {
                    if (inHand.Count >= maxSlides || stop.IsCancellationRequested) break;
                    if (inHand.ContainsKey(unit.Name)) continue;
                    inHand[unit.Name] = HandleAsync(unit, stop);
                }
                if (inHand.Count >= maxSlides)
                    await Task.WhenAny(inHand.Values.Append(Task.Delay(rescan, stop)));
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                log.LogError(e, "Watch loop error; going on in 5 s");
                try { await Task.Delay(TimeSpan.FromSeconds(5), stop); }
                catch (OperationCanceledException) { break; }
            }
        }
        await Task.WhenAll(inHand.Values);
    }

    private async Task HandleAsync(SlideUnit unit, CancellationToken stop)
    {
        await Task.Yield();
        try
        {
            var outcome = await handler.HandleAsync(unit, stop);
            // The inbox changed (or a place freed up): look again.
            if (outcome != SlideOutcome.NotTaken) discovery.RequestRescan();
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
        catch (Exception e)
        {
            log.LogError(e, "Handling {Slide} failed", unit.Name);
        }
    }
}
