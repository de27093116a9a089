namespace WsiSegment.Tests.Support;

/// <summary>Where the repository and the shared test data (../shared next to the checkout) are.</summary>
public static class Repo
{
    public static readonly string Root = FindRoot();

    /// <summary>../shared beside the repository (real slides, the ESPNet parity oracle); null when absent.</summary>
    public static readonly string? Shared = FindShared();

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
        if (Repo.Shared is null) Skip = "../shared (real slides and the ESPNet reference) is not beside the repository";
    }
}

/// <summary>A theory that needs ../shared: skipped, with the reason, when it is not there.</summary>
public sealed class SharedTheoryAttribute : TheoryAttribute
{
    public SharedTheoryAttribute()
    {
        if (Repo.Shared is null) Skip = "../shared (real slides and the ESPNet reference) is not beside the repository";
    }
}
