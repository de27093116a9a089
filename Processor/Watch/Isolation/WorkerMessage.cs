using System.Text.Json;
using System.Text.Json.Serialization;

namespace WsiSegment.Processor.Watch.Isolation;

/// <summary>
/// One line of the protocol between the watch service and its `watch-worker` child: a JSON object per line, on the
/// child's stdin (start, slide, cancel) and on its protocol output (ready, progress, done, failed, cancelled).
/// One record for every kind keeps the two ends on one type; fields a kind does not use are left out.
/// </summary>
public sealed record WorkerMessage(string Type)
{
    // Service → child.
    public const string Start = "start";
    public const string Slide = "slide";
    public const string Cancel = "cancel";
    // Child → service.
    public const string Ready = "ready";
    public const string Progress = "progress";
    public const string Done = "done";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    /// <summary>start: the "Watch:Segment" configuration keys and values the child builds its segmenter from.</summary>
    public Dictionary<string, string?>? Settings { get; init; }

    /// <summary>start: the service's log level, for the child's log lines.</summary>
    public string? LogLevel { get; init; }

    /// <summary>slide: the slide to segment and where its outputs go.</summary>
    public string? SlidePath { get; init; }
    public string? OutDir { get; init; }

    /// <summary>ready: the child's pid, the loaded model's hash and class names.</summary>
    public int Pid { get; init; }
    public string? ModelHash { get; init; }
    public List<string>? Classes { get; init; }

    /// <summary>progress: the pipeline's stage and patch counts.</summary>
    public string? Stage { get; init; }
    public long PatchesDone { get; init; }
    public long PatchesTotal { get; init; }
    public double PatchesPerSecond { get; init; }

    /// <summary>done: what the slide produced.</summary>
    public string? ReportPath { get; init; }
    public string? Sha256 { get; init; }
    public List<double>? Areas { get; init; }

    /// <summary>done: seconds the slide took inside the child (the service's wall time less this is the protocol's cost).</summary>
    public double Seconds { get; init; }

    /// <summary>failed (and a start that could not load the model): the error as the service reports it.</summary>
    public string? Message { get; init; }
    public string? ExceptionType { get; init; }
    public string? Kind { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault,
        // Areas of classes without a known MPP are NaN.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = false,
    };

    public string ToLine() => JsonSerializer.Serialize(this, Json);

    /// <summary>The message on a line, or null for a line that is not one (a stray native print on the stream).</summary>
    public static WorkerMessage? Parse(string line)
    {
        if (line.Length == 0 || line[0] != '{') return null;
        try { return JsonSerializer.Deserialize<WorkerMessage>(line, Json) is { Type.Length: > 0 } m ? m : null; }
        catch (JsonException) { return null; }
    }
}
