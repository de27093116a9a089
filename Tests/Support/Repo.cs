namespace WsiSegment.Tests.Support;

/// <summary>Where the repository and the shared test data (../shared next to the checkout) are.</summary>
public static class Repo
{
    public static readonly string Root = FindRoot();

    /// <summary>../shared beside the repository (real slides, the ESPNet parity oracle); null when absent.</summary>
    public static readonly string? Shared = FindShared();

    /// <summary>
    /// Why tests that need ../shared cannot run here, or null when they can. Under CI (CI=true), where ../shared is
    /// always checked out beside the clone, its absence is a failure, not a skip: those tests then run and fail
    /// naming the missing folder.
    /// </summary>
    public static string? SharedSkipReason =>
        Shared is not null || IsCi ? null : "../shared (real slides and the ESPNet reference) is not beside the repository";

    private static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string SharedSlides => System.IO.Path.Combine(Shared ?? throw new InvalidOperationException("../shared is missing"), "slides");

    public static string SharedFile(params string[] parts) =>
        System.IO.Path.Combine([Shared ?? throw new InvalidOperationException("../shared is missing"), .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "WsiSegment.sln")))
                return dir.FullName;
        throw new InvalidOperationException("cannot find WsiSegment.sln above " + AppContext.BaseDirectory);
    }

    private static string? FindShared()
    {
        var env = Environment.GetEnvironmentVariable("WSI_SEGMENT_SHARED");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
        var candidate = System.IO.Path.GetFullPath(System.IO.Path.Combine(Root, "..", "shared"));
        return Directory.Exists(candidate) ? candidate : null;
    }
}

/// <summary>A fact that needs ../shared: skipped, with the reason, when it is not there (never passes silently).</summary>
public sealed class SharedFactAttribute : FactAttribute
{
    public SharedFactAttribute()
    {
        Skip = Repo.SharedSkipReason;
    }
}

/// <summary>A theory that needs ../shared: skipped, with the reason, when it is not there.</summary>
public sealed class SharedTheoryAttribute : TheoryAttribute
{
    public SharedTheoryAttribute()
    {
        Skip = Repo.SharedSkipReason;
    }
}
