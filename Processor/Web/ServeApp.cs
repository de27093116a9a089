using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WsiSegment.Processor.Cli;

namespace WsiSegment.Processor.Web;

/// <summary>
/// The web view: Kestrel with the pages (static files from wwwroot next to the executable, OpenSeadragon among
/// them), the JSON API, Deep Zoom descriptors and tiles, and the output downloads. Every file it serves is either
/// one of its own static files or resolved by <see cref="RealPaths"/> inside the configured folders.
/// </summary>
public static class ServeApp
{
    public static string WebRoot => Path.Combine(AppContext.BaseDirectory, "wwwroot");

    public static WebApplication Build(ServeOptions options, LogLevel logLevel, bool ownsSignals = true)
    {
        string? token = options.Validate();
        if (!File.Exists(Path.Combine(WebRoot, "lib", "openseadragon", "openseadragon.min.js")))
            throw new UserError($"{WebRoot}/lib/openseadragon: missing; run scripts/bootstrap.sh (npm ci in Processor/Web) and build again");

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
            .SetMinimumLevel(logLevel).AddFilter("Microsoft", LogLevel.Warning);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        if (!ownsSignals) builder.Services.AddSingleton<IHostLifetime, PassiveLifetime>();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(new RealPaths(options.OutDirs.Concat(options.SlideDirs)));
        builder.Services.AddSingleton<SlideCatalog>();
        builder.Services.AddSingleton(new OpenSlides(options.OpenSlides));
        builder.Services.AddSingleton(new TileCache(options.TileCacheBytes));
        builder.Services.AddSingleton<TileService>();
        builder.Services.AddSingleton(new WatchStatusReader(options));

        var app = builder.Build();
        app.UseExceptionHandler(e => e.Run(async ctx =>
        {
            // Never a stack trace to the client; the log has the details.
            ctx.Response.StatusCode = 500;
            ctx.Response.ContentType = "text/plain; charset=utf-8";
            await ctx.Response.WriteAsync("500: internal error (see the server's log)\n");
        }));
        app.Use(async (ctx, next) =>
        {
            var h = ctx.Response.Headers;
            h.XContentTypeOptions = "nosniff";
            h["Referrer-Policy"] = "no-referrer";
            h.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'";
            await next(ctx);
        });
        if (token is not null)
        {
            var gate = new TokenGate(token);
            app.Use(gate.InvokeAsync);
        }
        var types = new FileExtensionContentTypeProvider();
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(WebRoot),
            RequestPath = "/static",
            ContentTypeProvider = types,
        });
        MapPages(app);
        MapApi(app);
        MapTiles(app);
        MapFiles(app, types);
        return app;
    }

    /// <summary>The addresses Kestrel actually bound (port 0 becomes the real port).</summary>
    public static IReadOnlyCollection<string> Addresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    private static void MapPages(WebApplication app)
    {
        app.MapGet("/", () => Results.File(Path.Combine(WebRoot, "index.html"), "text/html; charset=utf-8"));
        app.MapGet("/slide/{id}", (string id, SlideCatalog catalog) => catalog.Find(id) is null
            ? Results.NotFound("no such slide\n")
            : Results.File(Path.Combine(WebRoot, "slide.html"), "text/html; charset=utf-8"));
    }

    private static void MapApi(WebApplication app)
    {
        var json = new JsonSerializerOptions(JsonOutput.Options) { WriteIndented = false };
        app.MapGet("/api/slides", (string? q, SlideCatalog catalog) => Results.Json(catalog.All()
            .Where(e => string.IsNullOrEmpty(q) || e.Name.Contains(q, StringComparison.OrdinalIgnoreCase))
            .Select(SlideApi.Summary), json));
        app.MapGet("/api/slides/{id}", (string id, SlideCatalog catalog) =>
            catalog.Find(id) is { } e ? Results.Json(SlideApi.Detail(e), json) : Results.NotFound("no such slide\n"));
        app.MapGet("/api/status", (WatchStatusReader status) => Results.Json(status.Read(), json));
        app.MapGet("/api/events", async (HttpContext ctx, WatchStatusReader status, SlideCatalog catalog, IHostApplicationLifetime life) =>
        {
            // Server-sent events: a "status" event whenever status.json or the failed list changes, "slides" when the list does.
            ctx.Response.ContentType = "text/event-stream";
            ctx.Response.Headers.CacheControl = "no-cache";
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, life.ApplicationStopping);
            string lastStatus = "", lastSlides = "";
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    string fp = status.Fingerprint();
                    if (fp != lastStatus)
                    {
                        lastStatus = fp;
                        await ctx.Response.WriteAsync("event: status\ndata: " + JsonSerializer.Serialize(status.Read(), json) + "\n\n", stop.Token);
                    }
                    string slides = string.Join(',', catalog.All().Select(e => e.Version));
                    if (slides != lastSlides)
                    {
                        lastSlides = slides;
                        await ctx.Response.WriteAsync("event: slides\ndata: {}\n\n", stop.Token);
                    }
                    await ctx.Response.Body.FlushAsync(stop.Token);
                    await Task.Delay(1000, stop.Token);
                }
            }
            catch (OperationCanceledException) { /* the page went away or the server stops */ }
        });
    }

    private static void MapTiles(WebApplication app)
    {
        app.MapGet("/dzi/{id}/{layer}.dzi", (string id, string layer, SlideCatalog catalog) =>
        {
            if (catalog.Find(id) is not { } e || !TileService.TryLayer(layer, out var l)) return Results.NotFound("no such image\n");
            if (l == TileService.Layer.Slide ? e.SlidePath is null : e.MaskPath is null) return Results.NotFound("not available\n");
            return Results.Text(TileService.Geometry(e).DziXml(l == TileService.Layer.Slide ? "jpeg" : "png"), "application/xml; charset=utf-8");
        });
        app.MapGet("/dzi/{id}/{layer}_files/{level}/{tile}", async (HttpContext ctx, string id, string layer, string level, string tile, string? hide, TileService tiles) =>
        {
            var (status, t, error) = await tiles.GetAsync(id, layer, level, tile, hide, ctx.Request.Headers.IfNoneMatch.FirstOrDefault(), ctx.RequestAborted);
            if (t is null) return Results.Text($"{status}: {error}\n", "text/plain; charset=utf-8", statusCode: status);
            ctx.Response.Headers.ETag = t.ETag;
            // private: slides are patient data, no shared cache may keep them; the ETag carries the files' identity.
            ctx.Response.Headers.CacheControl = "private, max-age=3600";
            return status == 304 ? Results.StatusCode(304) : Results.Bytes(t.Body, t.ContentType);
        });
    }

    private static void MapFiles(WebApplication app, FileExtensionContentTypeProvider types)
    {
        // Downloads by output name only (mask, overlay, geojson, report, …): no path from the client ever reaches the disk.
        app.MapGet("/files/{id}/{key}", (string id, string key, SlideCatalog catalog, RealPaths paths) =>
        {
            if (catalog.Find(id) is not { } e || !e.Files.TryGetValue(key, out var file) || paths.Resolve(file) is not { } real)
                return Results.NotFound("no such file\n");
            string type = types.TryGetContentType(real, out var t) ? t : key == "geojson" ? "application/geo+json" : "application/octet-stream";
            bool inline = type.StartsWith("image/png", StringComparison.Ordinal) || type.Contains("json", StringComparison.Ordinal) || key == "geojson";
            return Results.File(real, type, inline ? null : Path.GetFileName(real), enableRangeProcessing: true);
        });
    }
}
