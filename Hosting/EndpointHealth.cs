using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Conveyor.Hosting;

/// <summary>
/// What an orchestrator and Prometheus ask every endpoint: <c>/health/live</c> (the process answers),
/// <c>/health/ready</c> (database, broker, handlers loaded, durability agent running: the verdict only),
/// <c>/health/details</c> (each check and why) and <c>/metrics</c>. With <c>Conveyor:Management:Port</c> set, the
/// last two answer only on that port, which an ingress never routes, and the public port answers nothing of them.
/// </summary>
public static class EndpointHealth
{
    /// <summary>Health checks with this tag decide <c>/health/ready</c>.</summary>
    public const string ReadyTag = "ready";

    internal static void AddEndpointHealth<TDb>(this WebApplicationBuilder builder) where TDb : DbContext
    {
        builder.Services.AddSingleton<LoadHandlersOnStartup>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LoadHandlersOnStartup>());

        // One instance for the process: AddCheck<T> would otherwise build a new check (and a new broker
        // connection) every time the checks run, which the heartbeats do every interval.
        builder.Services.AddSingleton<RabbitMqHealthCheck>();
        builder.Services.AddHealthChecks()
            .AddDbContextCheck<TDb>("database", tags: [ReadyTag])
            .AddCheck<RabbitMqHealthCheck>("broker", tags: [ReadyTag])
            .AddCheck<LoadHandlersOnStartup>("handlers", tags: [ReadyTag])
            .AddCheck<DurabilityAgentHealthCheck>("durability-agent", tags: [ReadyTag]);
        builder.Services.AddSingleton<CachedReadiness>();

        if (ManagementPort(builder.Configuration) is { } port)
        {
            // Kestrel listens on what ASPNETCORE_URLS / ASPNETCORE_HTTP_PORTS / --urls say; an address added in code
            // with Listen() would replace those, so the management address is added to them instead.
            var urls = builder.Configuration["urls"]?.Split(';', StringSplitOptions.RemoveEmptyEntries)
                       ?? builder.Configuration["http_ports"]?.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(p => $"http://*:{p}").ToArray()
                       ?? ["http://localhost:5000"];
            var host = new Uri(urls[0].Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal)).Host;
            builder.WebHost.UseUrls([.. urls, $"http://{(host == "0.0.0.0" ? "*" : host)}:{port}"]);
        }
    }

    /// <summary>The port of <c>/metrics</c> and <c>/health/details</c> (<c>Conveyor:Management:Port</c>), if they have one of their own.</summary>
    public static int? ManagementPort(IConfiguration configuration) =>
        configuration.GetValue<int?>("Conveyor:Management:Port") is { } port and > 0 and < 65536 ? port : null;

    /// <summary>The operational endpoints; <c>/metrics</c> and <c>/health/details</c> for the scrape networks or an ops token.</summary>
    public static WebApplication MapConveyorOperations(this WebApplication app)
    {
        var readiness = app.Services.GetRequiredService<CachedReadiness>();
        app.MapPrometheusScrapingEndpoint("/metrics").RequireAuthorization(Telemetry.MetricsPolicy);
        app.MapGet("/health/live", () => Results.Json(new { status = nameof(HealthStatus.Healthy) }));
        app.MapGet("/health/ready", async (CancellationToken ct) =>
        {
            var report = await readiness.GetAsync(ct);
            return Results.Json(new { status = report.Status.ToString() }, statusCode: StatusOf(report));
        });
        app.MapGet("/health/details", async (HttpContext context, CancellationToken ct) =>
        {
            var report = await readiness.GetAsync(ct);
            context.Response.StatusCode = StatusOf(report);
            await HealthResponse.WriteAsync(context, report);
        }).RequireAuthorization(Telemetry.MetricsPolicy);
        return app;
    }

    /// <summary>
    /// With a management port, it answers only <c>/metrics</c> and <c>/health</c>, and the public port everything but
    /// <c>/metrics</c> and <c>/health/details</c>. Decided by the port the connection came in on, never the Host header.
    /// </summary>
    public static WebApplication UseManagementPort(this WebApplication app)
    {
        if (ManagementPort(app.Configuration) is not { } port) return app;
        app.Use((context, next) =>
        {
            var path = context.Request.Path;
            var management = path.StartsWithSegments("/metrics") || path.StartsWithSegments("/health/details");
            var onManagementPort = context.Connection.LocalPort == port;
            if (onManagementPort ? management || path.StartsWithSegments("/health") : !management) return next(context);
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
        return app;
    }

    private static int StatusOf(HealthReport report) =>
        report.Status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
}

/// <summary>
/// The readiness checks' last result, for a second: probes, load balancers and scrapers asking often (or a flood of
/// anonymous requests) cost at most one round of database and broker checks per second.
/// </summary>
internal sealed class CachedReadiness(HealthCheckService checks, TimeProvider clock)
{
    private static readonly TimeSpan FreshFor = TimeSpan.FromSeconds(1);
    private readonly SemaphoreSlim _running = new(1, 1);
    private (HealthReport Report, DateTimeOffset At)? _last;

    public async Task<HealthReport> GetAsync(CancellationToken cancellation)
    {
        if (_last is { } last && clock.GetUtcNow() - last.At < FreshFor) return last.Report;
        await _running.WaitAsync(cancellation);
        try
        {
            if (_last is { } again && clock.GetUtcNow() - again.At < FreshFor) return again.Report;
            var report = await checks.CheckHealthAsync(check => check.Tags.Contains(EndpointHealth.ReadyTag), cancellation);
            _last = (report, clock.GetUtcNow());
            return report;
        }
        finally
        {
            _running.Release();
        }
    }
}
