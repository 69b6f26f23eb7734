using System.Globalization;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Conveyor.Hosting;

/// <summary>What every HTTP entry point enforces before a request reaches its endpoint (<c>Conveyor:Edge</c>).</summary>
public sealed class EdgeOptions
{
    public const string Section = "Conveyor:Edge";

    /// <summary>Larger request bodies are refused with 413 before they are read.</summary>
    public long MaxRequestBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Requests one client (its user, or its address when anonymous) may make per <see cref="RateWindow"/>.</summary>
    public int RequestsPerWindow { get; set; } = 600;

    /// <summary>
    /// Requests one address may make per <see cref="RateWindow"/>, counted before any token is looked at: a flood
    /// of bad or missing tokens is refused without validating them. Above <see cref="RequestsPerWindow"/>, since
    /// several users may share an address.
    /// </summary>
    public int AddressRequestsPerWindow { get; set; } = 6000;

    public TimeSpan RateWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Origins a browser may call the API from. None by default: cross-origin calls are refused.</summary>
    public string[] AllowedOrigins { get; set; } = [];

    /// <summary>
    /// The proxies (addresses or CIDR networks, e.g. the ingress controller's pod range) whose X-Forwarded-For and
    /// X-Forwarded-Proto are believed: the client address the rate limits key on, the scheme that makes cookies
    /// Secure and redirect URIs https. Anyone else's forwarded headers are ignored. Default: loopback only.
    /// </summary>
    public string[] TrustedProxies { get; set; } = [];

    public static EdgeOptions From(IConfiguration configuration)
    {
        var options = configuration.GetSection(Section).Get<EdgeOptions>() ?? new EdgeOptions();
        if (options.MaxRequestBodyBytes <= 0) throw new InvalidOperationException($"{Section}:MaxRequestBodyBytes must be positive.");
        if (options.RequestsPerWindow <= 0 || options.AddressRequestsPerWindow <= 0 || options.RateWindow <= TimeSpan.Zero)
        {
            throw new InvalidOperationException($"{Section}:RequestsPerWindow, AddressRequestsPerWindow and RateWindow must be positive.");
        }

        var notNetworks = options.TrustedProxies.Where(p => !TryNetwork(p, out _)).ToList();
        if (notNetworks.Count > 0) throw new InvalidOperationException($"{Section}:TrustedProxies: {string.Join(", ", notNetworks)} is not an address or a CIDR network.");
        return options;
    }

    /// <summary>A CIDR network, or one address as the network of just it.</summary>
    internal static bool TryNetwork(string value, out System.Net.IPNetwork network) =>
        System.Net.IPNetwork.TryParse(value.Contains('/') ? value : $"{value}/{(value.Contains(':') ? 128 : 32)}", out network);
}

/// <summary>
/// The hardened edge every Conveyor host shares: body size limit, per-client rate limiting (429 with
/// Retry-After), security headers, HTTPS redirection and HSTS outside development, problem details for
/// every error with no exception details, CORS closed unless origins are configured.
/// </summary>
public static class Edge
{
    internal static void AddConveyorEdge(this WebApplicationBuilder builder)
    {
        var options = EdgeOptions.From(builder.Configuration);
        builder.Services.AddSingleton(options);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            // Nothing tells a client which server software to aim at.
            kestrel.AddServerHeader = false;
        });

        builder.Services.AddSingleton(new AddressRateLimiter(Limiter(options, options.AddressRequestsPerWindow, context => $"address:{context.Connection.RemoteIpAddress}")));
        // Per client, counted in the endpoint's database so that all its instances share the count.
        builder.Services.AddSingleton<SharedRateLimitWindows>();
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<SharedRateLimitWindows, TimeProvider>((limiter, windows, clock) =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                Telemetry.IsOperational(context.Request.Path)
                    ? RateLimitPartition.GetNoLimiter("operational")
                    : RateLimitPartition.Get(ClientOf(context), client => new SharedFixedWindowRateLimiter(client, options.RequestsPerWindow, options.RateWindow, windows, clock)));
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = (rejected, _) => RejectAsync(rejected.HttpContext, rejected.Lease, options, options.RequestsPerWindow, "client");
        });

        builder.Services.AddExceptionHandler<DependencyUnavailable>();

        builder.Services.AddCors(cors => cors.AddDefaultPolicy(policy =>
        {
            if (options.AllowedOrigins.Length > 0) policy.WithOrigins(options.AllowedOrigins).AllowAnyHeader().AllowAnyMethod();
        }));

        builder.Services.Configure<ForwardedHeadersOptions>(forwarded =>
        {
            // Behind an ingress that terminates TLS: honour its X-Forwarded-Proto/For so HTTPS redirection, Secure
            // cookies, redirect URIs and per-client limits see the real scheme and client; only from the proxies
            // configured, so a client cannot claim to be another (ASP.NET Core's default: loopback).
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            if (options.TrustedProxies.Length > 0)
            {
                forwarded.KnownProxies.Clear();
                forwarded.KnownIPNetworks.Clear();
                foreach (var proxy in options.TrustedProxies)
                {
                    if (EdgeOptions.TryNetwork(proxy, out var network)) forwarded.KnownIPNetworks.Add(network);
                }
            }
        });
    }

    /// <summary>The request pipeline's outer layers; call first, before any endpoint is mapped.</summary>
    public static WebApplication UseConveyorEdge(this WebApplication app)
    {
        app.UseForwardedHeaders();
        // Unhandled exceptions become a 500 problem without the exception's details (a database that is away for a
        // moment a 503, see DependencyUnavailable); status codes without a body (404 from routing, 405, 413) get a
        // problem body too.
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // A request Kestrel refuses while it is read (too large, malformed) is the client's error, not a 500.
            StatusCodeSelector = exception => exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();
        app.UseManagementPort();
        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
            app.UseHttpsRedirection();
        }

        // Forms post to this host only, and to the identity provider: browsers apply form-action to the redirect
        // a form's response makes, and signing out is a form whose response redirects to the provider — at the
        // address browsers reach it by (Authentication:PublicAuthority), which in compose is not the one the
        // processes use (the provider's service name).
        var browserFacing = app.Configuration["Authentication:PublicAuthority"] ?? app.Configuration["Authentication:Authority"];
        var provider = Uri.TryCreate(browserFacing, UriKind.Absolute, out var authority) ? " " + authority.GetLeftPart(UriPartial.Authority) : "";
        var contentSecurityPolicy = $"default-src 'self'; frame-ancestors 'none'; form-action 'self'{provider}; base-uri 'none'";
        app.Use((context, next) =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers.ContentSecurityPolicy = contentSecurityPolicy;
            return next(context);
        });
        app.UseCors();
        // Two limits: per address before any token is validated (a flood of bad tokens costs nothing, and is counted
        // by each instance alone), then per signed-in user (or address), shared by every instance and counted before
        // authorization, so refused requests count too.
        var addresses = app.Services.GetRequiredService<AddressRateLimiter>().Limiter;
        var options = app.Services.GetRequiredService<EdgeOptions>();
        app.Use(async (context, next) =>
        {
            using var lease = await addresses.AcquireAsync(context, 1, context.RequestAborted);
            if (lease.IsAcquired) await next(context);
            else await RejectAsync(context, lease, options, options.AddressRequestsPerWindow, "address");
        });
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        return app;
    }

    /// <summary>A fixed window of <paramref name="permits"/> per key in this process; probes and scrapes are never limited (an orchestrator and Prometheus must always be able to ask).</summary>
    private static PartitionedRateLimiter<HttpContext> Limiter(EdgeOptions options, int permits, Func<HttpContext, string> key) =>
        PartitionedRateLimiter.Create<HttpContext, string>(context =>
            Telemetry.IsOperational(context.Request.Path)
                ? RateLimitPartition.GetNoLimiter("operational")
                : RateLimitPartition.GetFixedWindowLimiter(key(context), _ => new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = options.RateWindow, QueueLimit = 0 }));

    private static async ValueTask RejectAsync(HttpContext context, RateLimitLease lease, EdgeOptions options, int permits, string per)
    {
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : options.RateWindow;
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        await Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests",
                detail: $"At most {permits} requests per {options.RateWindow.TotalSeconds:0} s per {per}; try again after the Retry-After delay.")
            .ExecuteAsync(context);
    }

    /// <summary>The limiter that runs before authentication, held by the container so it lives (and is disposed) with the host.</summary>
    private sealed record AddressRateLimiter(PartitionedRateLimiter<HttpContext> Limiter) : IDisposable
    {
        public void Dispose() => Limiter.Dispose();
    }

    private static string ClientOf(HttpContext context) =>
        context.User.Identity?.IsAuthenticated == true && context.User.FindFirst("sub") is { } subject
            ? $"user:{subject.Value}"
            : $"address:{context.Connection.RemoteIpAddress}";
}

/// <summary>
/// The database went away under a request (restarting, failing over, its pool exhausted): the request did not
/// happen, and the client may simply send it again. That is a 503 with Retry-After, which clients and load
/// balancers retry, not a 500, which says the request itself is at fault.
/// </summary>
internal sealed class DependencyUnavailable(IProblemDetailsService problems, ILogger<DependencyUnavailable> logger) : IExceptionHandler
{
    public const int RetryAfterSeconds = 2;

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsTransient(exception)) return false;

        logger.LogWarning("{Method} {Path} answered 503: a dependency is unavailable ({Reason})",
            context.Request.Method, context.Request.Path, exception.GetBaseException().Message);
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Service temporarily unavailable",
                Detail = $"The service could not reach its database; nothing was changed. Try again in {RetryAfterSeconds} s.",
            },
        });
    }

    /// <summary>A failure of the connection to a dependency rather than of the request: worth repeating as it was.</summary>
    public static bool IsTransient(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is NpgsqlException { IsTransient: true } or TimeoutException or SocketException) return true;
        }

        return false;
    }
}
