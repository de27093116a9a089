namespace WsiSegment.Tests.Processor.Web;

/// <summary>
/// A browser test: drives Debian's chromium through Playwright. Skipped with the reason only outside CI when
/// chromium is not installed; under CI (CI=true) it runs, and fails naming the missing browser.
/// </summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public const string Chromium = "/usr/bin/chromium";

    public BrowserFactAttribute()
    {
        bool ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        if (!File.Exists(Chromium) && !ci)
            Skip = $"{Chromium} is not installed (apt-get install chromium; scripts/bootstrap.sh does it as root)";
    }
}
