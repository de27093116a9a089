using Prometheus;

namespace WsiSegment.Processor.Watch;

/// <summary>
/// Prometheus metrics of one worker (own registry, so several hosts in one process don't collide), served on
/// http://+:PORT/metrics when a port is set.
/// </summary>
public sealed class WatchMetrics : IDisposable
{
    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
    private readonly Counter _slides;
    private readonly Counter _retries;
    private readonly Gauge _queue;
    private readonly Gauge _arriving;
    private readonly Gauge _progress;
    private readonly Histogram _seconds;
    private IMetricServer? _server;

    public WatchMetrics()
    {
        var f = Metrics.WithCustomRegistry(_registry);
        _slides = f.CreateCounter("wsisegment_watch_slides_total", "Slides finished by outcome (done, failed, skipped).", ["outcome"]);
        _retries = f.CreateCounter("wsisegment_watch_retries_total", "Attempts repeated after a transient error.");
        _queue = f.CreateGauge("wsisegment_watch_queue_slides", "Stable slides waiting in the inbox.");
        _arriving = f.CreateGauge("wsisegment_watch_arriving_slides", "Slides in the inbox still being written.");
        _progress = f.CreateGauge("wsisegment_watch_current_progress_ratio", "Fraction of the current slide's patches done.");
        _seconds = f.CreateHistogram("wsisegment_watch_slide_seconds", "Wall time per segmented slide.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(1, 2, 14) });
    }

    public void Serve(int port)
    {
        if (port == 0) return;
        _server = new MetricServer(port: port, registry: _registry);
        _server.Start();
    }

    public void Outcome(string outcome, double seconds)
    {
        _slides.WithLabels(outcome).Inc();
        if (outcome == "done") _seconds.Observe(seconds);
        _progress.Set(0);
    }

    public void Retry() => _retries.Inc();

    public void Queue(int waiting, int arriving) { _queue.Set(waiting); _arriving.Set(arriving); }

    public void Progress(double fraction) => _progress.Set(fraction);

    public void Dispose()
    {
        _server?.Stop();
        _server = null;
    }
}
