namespace WsiSegment.Tests.Support;

/// <summary>
/// A private mount namespace (util-linux <c>unshare -rm</c>) in which a test can mount a tiny tmpfs: the one honest
/// way to fill a disk in a test. Where the kernel or container does not allow it, tests that need it are skipped
/// with that reason.
/// </summary>
public static class MountNamespace
{
    private static readonly Lazy<string?> Unavailable = new(() =>
    {
        try
        {
            var probe = Tool.Run("unshare", ["-rm", "true"], TimeSpan.FromSeconds(30));
            return probe.ExitCode == 0 ? null : "unshare -rm is not permitted here: " + probe.Stderr.Trim();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return "unshare (util-linux) cannot be run: " + e.Message;
        }
    });

    public static string? SkipReason => Unavailable.Value;

    /// <summary>Runs a shell script with a tmpfs of <paramref name="size"/> mounted on <paramref name="mountPoint"/>.</summary>
    public static Tool.Result RunWithTmpfs(string mountPoint, string size, string script, IDictionary<string, string>? env = null) =>
        Tool.Run("unshare", ["-rm", "sh", "-c", $"mount -t tmpfs -o size={size} none \"$0\" && {script}", mountPoint], env: env);
}

/// <summary>A theory that needs a mount namespace: skipped, with the reason, when the system does not allow one.</summary>
public sealed class MountNamespaceTheoryAttribute : TheoryAttribute
{
    public MountNamespaceTheoryAttribute()
    {
        Skip = MountNamespace.SkipReason;
    }
}
