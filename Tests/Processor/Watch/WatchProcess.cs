using System.Diagnostics;
using System.Text;

namespace WsiSegment.Tests.Processor.Watch;

/// <summary>`wsi-segment watch …` running as a child process (our built executable), with its log captured.</summary>
public sealed class WatchProcess : IDisposable
{
    private readonly Process _p;
    private readonly StringBuilder _log = new();

    private WatchProcess(Process p) => _p = p;

    public static WatchProcess Start(IEnumerable<string> args, IDictionary<string, string>? env = null)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "wsi-segment.dll");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("watch");
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        var p = new Process { StartInfo = psi };
        var w = new WatchProcess(p);
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (w._log) w._log.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (w._log) w._log.AppendLine(e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return w;
    }

    public int Pid => _p.Id;

    public string Log { get { lock (_log) return _log.ToString(); } }

    public bool HasExited => _p.HasExited;

    public int ExitCode => _p.ExitCode;

    /// <summary>SIGTERM, as systemd or `kill` sends it.</summary>
    public void Terminate()
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
    }

    /// <summary>SIGKILL: no chance to clean up.</summary>
    public void KillHard() => _p.Kill(entireProcessTree: true);

    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_p.WaitForExit(timeout)) return false;
        _p.WaitForExit(); // drain the output readers
        return true;
    }

    public void Dispose()
    {
        try { if (!_p.HasExited) _p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _p.Dispose();
    }
}
