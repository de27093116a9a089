using System.Diagnostics;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Web;

/// <summary>`wsi-segment serve …` as a separate process on a free loopback port; killed on dispose.</summary>
public sealed class ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _stderr = new();

    public ServerProcess(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "wsi-segment.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("serve");
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        _process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start wsi-segment serve");
        _process.ErrorDataReceived += (_, e) => { lock (_stderr) _stderr.AppendLine(e.Data); };
        _process.BeginErrorReadLine();
        var line = _process.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(60)) || line.Result is not { } first || !first.StartsWith("serving ", StringComparison.Ordinal))
        {
            Dispose();
            throw new InvalidOperationException("serve did not start: " + Stderr);
        }
        Url = first["serving ".Length..].Trim().Replace("0.0.0.0", "127.0.0.1").Replace("[::]", "127.0.0.1");
        Http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(60) };
    }

    public string Url { get; }
    public HttpClient Http { get; }
    public int Pid => _process.Id;
    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    public void Dispose()
    {
        Http?.Dispose();
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); _process.WaitForExit(10_000); } catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
