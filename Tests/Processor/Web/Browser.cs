using Microsoft.Playwright;

namespace WsiSegment.Tests.Processor.Web;

/// <summary>Headless Debian chromium under Playwright (never Playwright's own browser download), one page, closed on dispose.</summary>
public sealed class Browser : IAsyncDisposable
{
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IPage Page { get; private set; } = null!;
    public List<string> Requests { get; } = [];

    public static async Task<Browser> OpenAsync(int width = 1280, int height = 800)
    {
        if (!File.Exists(BrowserFactAttribute.Chromium))
            throw new InvalidOperationException($"{BrowserFactAttribute.Chromium} is missing: apt-get install chromium (scripts/bootstrap.sh)");
        var b = new Browser();
        b._playwright = await Playwright.CreateAsync();
        b._browser = await b._playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = BrowserFactAttribute.Chromium, Headless = true, Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
        b.Page = await b._browser.NewPageAsync(new() { ViewportSize = new() { Width = width, Height = height } });
        b.Page.SetDefaultTimeout(60_000);
        b.Page.Request += (_, r) => { lock (b.Requests) b.Requests.Add(r.Url); };
        return b;
    }

    public List<string> RequestsSoFar() { lock (Requests) return [.. Requests]; }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null) await _browser.CloseAsync();
        _playwright?.Dispose();
    }
}
