using System.CommandLine;
using WsiSegment.Processor.Watch.Isolation;

namespace WsiSegment.Processor.Commands;

/// <summary>
/// `wsi-segment watch-worker`: the child process the watch service segments each slide in (hidden; not for users).
/// It speaks <see cref="WorkerMessage"/> lines on stdin/stdout; see <see cref="WatchWorkerChild"/>.
/// </summary>
public static class WatchWorkerCommand
{
    public const string Name = "watch-worker";

    public static Command Create()
    {
        var cmd = new Command(Name, "Segment slides for the watch service, one JSON request per line on stdin (internal).") { Hidden = true };
        cmd.SetAction((_, _) => WatchWorkerChild.RunAsync());
        return cmd;
    }
}
