using System.Runtime.ExceptionServices;

namespace WsiSegment.Processor.Inference;

/// <summary>
/// Tasks that work side by side on one slide: the first failure cancels the others, and awaiting them surfaces that
/// failure, not the cancellations it caused.
/// </summary>
internal sealed class SiblingTasks : IDisposable
{
    private readonly CancellationToken _outer;
    private readonly CancellationTokenSource _cts;
    private readonly List<Task> _tasks = [];

    public SiblingTasks(CancellationToken outer)
    {
        _outer = outer;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(outer);
    }

    /// <summary>Cancelled when any sibling fails (or the outer token is).</summary>
    public CancellationToken Token => _cts.Token;

    /// <summary>Cancels the siblings (for a stage that reports its failure through a channel before rethrowing).</summary>
    public void CancelAll() => _cts.Cancel();

    /// <summary>Adds a task that is already running (it should call <see cref="CancelAll"/> when it fails).</summary>
    public void Add(Task task) => _tasks.Add(task);

    /// <summary>Runs <paramref name="work"/> on the thread pool; its failure cancels the siblings.</summary>
    public void Run(Action work) => _tasks.Add(Task.Run(() =>
    {
        try
        {
            work();
        }
        catch
        {
            _cts.Cancel();
            throw;
        }
    }, _cts.Token));

    /// <summary>Waits for every sibling; rethrows the root cause of a failure (cancellation only when the outer token asked for it).</summary>
    public async Task WhenAllAsync()
    {
        try
        {
            await Task.WhenAll(_tasks).ConfigureAwait(false);
        }
        catch
        {
            var root = _tasks.Where(t => t.IsFaulted).SelectMany(t => t.Exception!.InnerExceptions)
                .FirstOrDefault(e => e is not OperationCanceledException and not System.Threading.Channels.ChannelClosedException);
            _outer.ThrowIfCancellationRequested();
            if (root is not null) ExceptionDispatchInfo.Throw(root);
            throw;
        }
    }

    public void Dispose() => _cts.Dispose();
}
