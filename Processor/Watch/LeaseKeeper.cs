using Microsoft.Extensions.Logging;

namespace WsiSegment.Processor.Watch;

/// <summary>
/// Renews a claim's lease every quarter of its length while a slide is worked on. If a renewal finds the claim gone
/// (another worker judged us dead and took it back), <see cref="Lost"/> fires so the work stops without touching files
/// that are no longer ours.
/// </summary>
public sealed class LeaseKeeper : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _lost = new();
    private readonly Task _loop;

    public LeaseKeeper(ClaimStore claims, Claim claim, ILogger log)
    {
        var period = claims.Lease / 4;
        _loop = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    await Task.Delay(period, _stop.Token);
                    if (claims.Renew(claim)) continue;
                    log.LogError("Lost the claim on {Slide}: another worker took it back; stopping work on it", claim.Slide);
                    _lost.Cancel();
                    return;
                }
            }
            catch (OperationCanceledException) { }
        });
    }

    public CancellationToken Lost => _lost.Token;

    public bool IsLost => _lost.IsCancellationRequested;

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _loop;
        _stop.Dispose();
        _lost.Dispose();
    }
}
