using System.Net;
using System.Text.Json;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Web;

/// <summary>What the server must never hand out: files reached through symlinks out of the served folders, slides
/// without a report, anything at all without the token when it listens beyond loopback.</summary>
[Collection(ServeCollection.Name)]
public class ServeSafetyTests(ServeFixture fx)
{
    [Fact]
    public async Task Symlink_escapes_and_slides_without_a_report_are_not_served()
    {
        using var dir = new TempDir("serve-safety");
        string outDir = Directory.CreateDirectory(Path.Combine(dir.Path, "out")).FullName;
        string outside = Directory.CreateDirectory(Path.Combine(dir.Path, "outside")).FullName;
        File.WriteAllText(Path.Combine(outside, "secret.txt"), "root:x:0:0 secret");
        foreach (var f in Directory.GetFiles(fx.Out, "phantom-4.*")) File.Copy(f, Path.Combine(outDir, Path.GetFileName(f)));
        // One output replaced by a symlink to a file outside the served folder.
        File.Delete(Path.Combine(outDir, "phantom-4.geojson"));
        File.CreateSymbolicLink(Path.Combine(outDir, "phantom-4.geojson"), Path.Combine(outside, "secret.txt"));
        // A complete result reachable only through a symlinked folder.
        foreach (var f in Directory.GetFiles(fx.Out, "phantom-3.*")) File.Copy(f, Path.Combine(outside, Path.GetFileName(f)));
        Directory.CreateSymbolicLink(Path.Combine(outDir, "linked"), outside);
        // Outputs of a slide whose report is not written yet.
        string pending = Directory.CreateDirectory(Path.Combine(outDir, "pending")).FullName;
        foreach (var f in Directory.GetFiles(fx.Out, "phantom-3.*").Where(f => !f.EndsWith(".json", StringComparison.Ordinal)))
            File.Copy(f, Path.Combine(pending, Path.GetFileName(f)));

        // A FIFO named like a report, and a symlink to a device: opening either would hang a reader.
        var fifo = Tool.Run("mkfifo", [Path.Combine(outDir, "fifo.json")]);
        Assert.True(fifo.ExitCode == 0, fifo.Stderr);
        File.CreateSymbolicLink(Path.Combine(outDir, "zero.json"), "/dev/zero");

        using var server = new ServerProcess(outDir, "--urls", "http://127.0.0.1:0"); // no --slides: the source slides lie outside
        using var list = JsonDocument.Parse(await server.Http.GetStringAsync("/api/slides"));
        var only = Assert.Single(list.RootElement.EnumerateArray());
        Assert.Equal("phantom-4", only.GetProperty("name").GetString());
        Assert.False(only.GetProperty("hasSlide").GetBoolean());
        string id = only.GetProperty("id").GetString()!;
        Assert.NotEqual(fx.Ids["phantom-4"], id); // ids are hashes of the report's path, not of its name

        using var detail = JsonDocument.Parse(await server.Http.GetStringAsync($"/api/slides/{id}"));
        Assert.DoesNotContain(detail.RootElement.GetProperty("files").EnumerateArray(), f => f.GetProperty("key").GetString() == "geojson");
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync($"/files/{id}/geojson")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync($"/dzi/{id}/slide.dzi")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync($"/dzi/{id}/slide_files/10/0_0.jpeg")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync($"/dzi/{id}/overlay_files/10/0_0.png")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync($"/files/{id}/mask")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync($"/files/{id}/..%2f..%2foutside%2fsecret.txt")).StatusCode);
    }

    [Fact]
    public void Binding_beyond_loopback_without_a_token_is_refused_at_start()
    {
        var r = Tool.WsiSegment("serve", fx.Out, "--urls", "http://0.0.0.0:0");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--token-file", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Fact]
    public async Task With_a_token_every_request_needs_it_as_header_or_cookie_set_from_the_link()
    {
        using var dir = new TempDir("serve-token");
        const string token = "s3cret-token-for-tests-0123456789";
        string tokenFile = dir.File("token");
        File.WriteAllText(tokenFile, token + "\n");
        using var server = new ServerProcess(fx.Out, "--slides", fx.Slides, "--urls", "http://0.0.0.0:0", "--token-file", tokenFile);
        string id = fx.Ids["phantom-3"];
        string tile = $"/dzi/{id}/slide_files/8/0_0.jpeg";

        foreach (var path in new[] { "/", "/api/slides", tile, "/static/index.js", $"/files/{id}/mask" })
            Assert.Equal(HttpStatusCode.Unauthorized, (await server.Http.GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(server, tile, "X-Wsi-Token", "wrong-token-wrong-token")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Send(server, tile, "X-Wsi-Token", token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Send(server, tile, "Authorization", "Bearer " + token)).StatusCode);

        // A link with ?token= sets the cookie and redirects to the same page without the token in the address.
        using var link = await server.Http.GetAsync($"/slide/{id}?token={token}");
        Assert.True((int)link.StatusCode is 302 or 303 or 307, link.StatusCode.ToString());
        Assert.Equal($"/slide/{id}", link.Headers.Location!.OriginalString);
        string cookie = link.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("wsi_token=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, (await Send(server, $"/slide/{id}", "Cookie", cookie.Split(';')[0])).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Http.GetAsync($"/slide/{id}?token=nope")).StatusCode);
    }

    private static Task<HttpResponseMessage> Send(ServerProcess server, string path, string header, string value)
    {
        var req = new HttpRequestMessage(HttpMethod.Get, path);
        req.Headers.TryAddWithoutValidation(header, value);
        return server.Http.SendAsync(req);
    }
}
