using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace WsiSegment.Processor.Cluster;

/// <summary>
/// Talks to Slurm through its own commands (sbatch, squeue, scontrol, sacct), as a user would: no library, no
/// daemon protocol, so it works with any site's configuration and SLURM_CONF. Every call has a time limit.
/// </summary>
public sealed class SlurmClient(ILogger log, TimeSpan? timeout = null)
{
    private readonly TimeSpan _timeout = timeout ?? TimeSpan.FromSeconds(60);

    public sealed record CommandResult(int ExitCode, string Stdout, string Stderr);

    /// <summary>Whether sbatch is on PATH: the reason when not, else null.</summary>
    public static string? Unavailable()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            if (File.Exists(Path.Combine(dir, "sbatch"))) return null;
        return "sbatch is not on PATH (Slurm's client commands are needed: apt-get install slurm-client, or load the site's slurm module)";
    }

    /// <summary>Submits a batch script; returns the job id (the array's id for arrays).</summary>
    public async Task<string> SubmitAsync(string script, IEnumerable<string> args, CancellationToken ct)
    {
        var r = await RunAsync("sbatch", ["--parsable", .. args, script], ct);
        if (r.ExitCode != 0) throw new Cli.UserError($"{script}: sbatch refused the job: {OneLine(r.Stderr + r.Stdout)}");
        // --parsable prints "JOBID" or "JOBID;CLUSTER".
        string id = r.Stdout.Trim().Split(';')[0];
        if (id.Length == 0 || !id.All(char.IsAsciiDigit)) throw new Cli.UserError($"{script}: sbatch printed no job id: {OneLine(r.Stdout)}");
        return id;
    }

    /// <summary>
    /// The tasks of a job (an array's tasks, or the one job) that the controller still knows (pending, running, and
    /// recently ended ones within MinJobAge); null when squeue cannot be asked. squeue --json lists every job
    /// (22.05 ignores filters with --json), so the job is picked out here.
    /// </summary>
    public async Task<IReadOnlyList<SlurmTask>?> QueueAsync(string jobId, CancellationToken ct)
    {
        var r = await RunAsync("squeue", ["--json"], ct);
        if (r.ExitCode != 0)
        {
            log.LogWarning("squeue failed: {Reason}", OneLine(r.Stderr));
            return null;
        }
        return ParseJobs(r.Stdout, jobId);
    }

    /// <summary>Accounting records of ended tasks (sacct --json); null where the cluster keeps no accounting.</summary>
    public async Task<IReadOnlyList<SlurmTask>?> AccountingAsync(string jobId, CancellationToken ct)
    {
        CommandResult r;
        try { r = await RunAsync("sacct", ["--json", "-j", jobId], ct); }
        catch (Cli.UserError) { return null; }
        if (r.ExitCode != 0 || r.Stdout.TrimStart().Length == 0 || !r.Stdout.TrimStart().StartsWith('{')) return null;
        try { return ParseJobs(r.Stdout, jobId); }
        catch (JsonException) { return null; }
    }

    public static IReadOnlyList<SlurmTask> ParseJobs(string json, string jobId)
    {
        using var doc = JsonDocument.Parse(json);
        var tasks = new List<SlurmTask>();
        if (!doc.RootElement.TryGetProperty("jobs", out var jobs) || jobs.ValueKind != JsonValueKind.Array) return tasks;
        foreach (var j in jobs.EnumerateArray())
        {
            string id = Text(j, "job_id") ?? "";
            string? arrayId = Text(j, "array_job_id");
            bool isArray = arrayId is not null and not "0";
            if (isArray ? arrayId != jobId : id != jobId) continue;
            string state = State(j);
            string? reason = Text(j, "state_reason") is { } r && r != "None" ? r : null;
            int restarts = Int(j, "restart_cnt") ?? 0;
            string? node = Text(j, "nodes") is { Length: > 0 } n ? n : Text(j, "batch_host") is { Length: > 0 } b ? b : null;
            int? exit = ExitCode(j);
            string? range = Text(j, "array_task_string");
            if (isArray && !string.IsNullOrEmpty(range))
            {
                foreach (int t in ExpandRange(range))
                    tasks.Add(new SlurmTask(id, t, state, reason, restarts, node, exit));
            }
            else
            {
                tasks.Add(new SlurmTask(id, isArray ? Int(j, "array_task_id") : null, state, reason, restarts, node, exit));
            }
        }
        return tasks;
    }

    /// <summary>"2-5%2" or "1,3,7-9" → the task ids.</summary>
    public static IEnumerable<int> ExpandRange(string range)
    {
        string body = range.Split('%')[0].Trim('[', ']');
        foreach (var part in body.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var ends = part.Split(':')[0].Split('-');
            if (!int.TryParse(ends[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int a)) continue;
            int b = ends.Length > 1 && int.TryParse(ends[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int e) ? e : a;
            for (int t = a; t <= b; t++) yield return t;
        }
    }

    // 22.05 gives job_state as a string; later releases as an array of strings; sacct nests it under state.current.
    private static string State(JsonElement j)
    {
        if (j.TryGetProperty("job_state", out var s))
        {
            if (s.ValueKind == JsonValueKind.String) return s.GetString()!;
            if (s.ValueKind == JsonValueKind.Array && s.GetArrayLength() > 0) return s[0].GetString() ?? "UNKNOWN";
        }
        if (j.TryGetProperty("state", out var st) && st.ValueKind == JsonValueKind.Object && st.TryGetProperty("current", out var c))
            return c.ValueKind == JsonValueKind.String ? c.GetString()! : c.ValueKind == JsonValueKind.Array && c.GetArrayLength() > 0 ? c[0].GetString() ?? "UNKNOWN" : "UNKNOWN";
        return "UNKNOWN";
    }

    private static int? ExitCode(JsonElement j)
    {
        if (!j.TryGetProperty("exit_code", out var e)) return null;
        if (e.ValueKind == JsonValueKind.Number) return e.GetInt32();
        if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty("return_code", out var rc))
            return rc.ValueKind == JsonValueKind.Number ? rc.GetInt32() : rc.ValueKind == JsonValueKind.Object && rc.TryGetProperty("number", out var n) && n.ValueKind == JsonValueKind.Number ? n.GetInt32() : null;
        return null;
    }

    private static string? Text(JsonElement j, string name)
    {
        if (!j.TryGetProperty(name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number => v.GetRawText(),
            // Newer Slurm wraps numbers as {"set": true, "number": N}.
            JsonValueKind.Object when v.TryGetProperty("number", out var n) && (!v.TryGetProperty("set", out var set) || set.GetBoolean()) => n.GetRawText(),
            _ => null,
        };
    }

    private static int? Int(JsonElement j, string name) =>
        int.TryParse(Text(j, name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : null;

    public async Task<CommandResult> RunAsync(string program, IReadOnlyList<string> args, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Process p;
        try { p = Process.Start(psi) ?? throw new Cli.UserError($"{program}: cannot be started"); }
        catch (System.ComponentModel.Win32Exception e) { throw new Cli.UserError($"{program}: cannot be started ({e.Message}); is Slurm installed and on PATH?", e); }
        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync(ct);
            var stderr = p.StandardError.ReadToEndAsync(ct);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(_timeout);
            try { await p.WaitForExitAsync(limit.Token); }
            catch (OperationCanceledException)
            {
                try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                ct.ThrowIfCancellationRequested();
                throw new Cli.UserError($"{program} {string.Join(' ', args)}: no answer within {_timeout.TotalSeconds:0} s (is slurmctld up?)");
            }
            return new CommandResult(p.ExitCode, await stdout, await stderr);
        }
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();
}
