using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Hosting;

/// <summary>
/// What an orchestrator and Prometheus ask every endpoint: <c>/health/live</c> (the process answers),
/// <c>/health/ready</c> (database, broker, handlers compiled, durability agent running) and <c>/metrics</c>.
/// </summary>
public static class EndpointHealth
{
    /// <summary>Health checks with this tag decide <c>/health/ready</c>.</summary>
    public const string ReadyTag = "ready";

    internal static void AddEndpointHealth<TDb>(this WebApplicationBuilder builder) where TDb : DbContext
    {
        builder.Services.AddSingleton<CompileHandlersOnStartup>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CompileHandlersOnStartup>());

        // One instance for the process: AddCheck<T> would otherwise build a new check (and a new broker
        // connection) every time the checks run, which the heartbeats do every interval.
        builder.Services.AddSingleton<RabbitMqHealthCheck>();
        builder.Services.AddHealthChecks()
            .AddDbContextCheck<TDb>("database", tags: [ReadyTag])
            .AddCheck<RabbitMqHealthCheck>("broker", tags: [ReadyTag])
            .AddCheck<CompileHandlersOnStartup>("handlers", tags: [ReadyTag])
            .AddCheck<DurabilityAgentHealthCheck>("durability-agent", tags: [ReadyTag]);
    }

    /// <summary>
    /// The operational endpoints: <c>/health/live</c> and <c>/health/ready</c>, both anonymous, and <c>/metrics</c>
    /// for Prometheus (from the scrape networks, or with an ops token).
    /// </summary>
    public static WebApplication MapConveyorOperations(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics").RequireAuthorization(Telemetry.MetricsPolicy);
        app.MapHealthChecks("/health/live", new HealthCheckOptions
        {
            Predicate = _ => false,
            ResponseWriter = HealthResponse.WriteAsync,
        });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResponseWriter = HealthResponse.WriteAsync,
        });
        return app;
    }
}
