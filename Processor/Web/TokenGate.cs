using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace WsiSegment.Processor.Web;

/// <summary>
/// When a token is configured, every request must carry it: header <c>X-Wsi-Token</c> or <c>Authorization: Bearer</c>,
/// or the cookie set when a browser first opens a link with <c>?token=</c> (then redirected to the same URL without it,
/// so the token does not stay in the address bar or the history).
/// </summary>
public sealed class TokenGate(string token)
{
    public const string Cookie = "wsi_token";
    private readonly byte[] _token = Encoding.UTF8.GetBytes(token);

    public async Task InvokeAsync(HttpContext ctx, RequestDelegate next)
    {
        var req = ctx.Request;
        if (req.Query.TryGetValue("token", out var q) && Matches(q.ToString()))
        {
            ctx.Response.Cookies.Append(Cookie, q.ToString(), new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/" });
            var rest = req.Query.Where(kv => kv.Key != "token").Select(kv => Uri.EscapeDataString(kv.Key) + "=" + Uri.EscapeDataString(kv.Value.ToString()));
            string query = string.Join('&', rest);
            ctx.Response.Redirect(req.PathBase + req.Path + (query.Length > 0 ? "?" + query : ""));
            return;
        }
        string? offered = req.Headers["X-Wsi-Token"].FirstOrDefault()
            ?? (req.Headers.Authorization.FirstOrDefault() is { } auth && auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth[7..] : null)
            ?? req.Cookies[Cookie];
        if (offered is not null && Matches(offered))
        {
            await next(ctx);
            return;
        }
        ctx.Response.StatusCode = StatusCodes.Status401Unauthorized;
        ctx.Response.ContentType = "text/plain; charset=utf-8";
        await ctx.Response.WriteAsync("401: this server needs its access token: open the link with ?token=… once, or send the X-Wsi-Token header\n");
    }

    private bool Matches(string offered) => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(offered), _token);
}
