using System.Diagnostics;
using System.Reflection;

namespace WsiSegment.Processor.Bench;

/// <summary>Runs this same `wsi-segment` executable as a child process (own peak RSS, own allocator state).</summary>
public static class SelfProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed);

    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        string host = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // Under `dotnet wsi-segment.dll` the host is dotnet itself: pass our assembly first.
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            psi.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        return psi;
    }

    public static async Task<Result> RunAsync(IEnumerable<string> args, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(StartInfo(args)) ?? throw new InvalidOperationException("cannot start wsi-segment");
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        try
        {
            await p.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw;
        }
        return new Result(p.ExitCode, await stdout, await stderr, sw.Elapsed);
    }
}
