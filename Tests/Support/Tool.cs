using System.Diagnostics;

namespace WsiSegment.Tests.Support;

/// <summary>Runs a program (a third-party reader, or our own executable) and captures what it printed.</summary>
public static class Tool
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(string program, IEnumerable<string> args, TimeSpan? timeout = null, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null)
            foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + program);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in time");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs our built `wsi-segment` (copied next to the tests) through the dotnet host.</summary>
    public static Result WsiSegment(params string[] args)
    {
        string dll = System.IO.Path.Combine(AppContext.BaseDirectory, "wsi-segment.dll");
        return Run("dotnet", [dll, .. args], env: new Dictionary<string, string> { ["NO_COLOR"] = "1", ["COLUMNS"] = "200" });
    }

    /// <summary>Whether a third-party program is on PATH (tests that need one fail with the install hint when absent).</summary>
    public static string Require(string program, string package)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            var candidate = System.IO.Path.Combine(dir, program);
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException($"{program} is not installed (apt-get install {package}); the README's test command installs it");
    }
}
