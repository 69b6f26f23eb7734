using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Wolverine.Runtime.Handlers;

namespace Conveyor.Hosting;

/// <summary>
/// Wolverine generates and compiles each message handler on its first message, seconds per handler.
/// Doing it right after start-up, before the endpoint reports ready, keeps that cost off the first
/// customer's order. Hand-written because Wolverine has no start-up switch for it short of committing
/// pre-generated code, which goes stale whenever a handler changes.
/// </summary>
internal sealed class CompileHandlersOnStartup(HandlerGraph handlers, ILogger<CompileHandlersOnStartup> logger)
    : BackgroundService, IHealthCheck
{
    private volatile bool _compiled;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(() =>
    {
        var started = TimeProvider.System.GetTimestamp();
        var messageTypes = handlers.Chains.Select(c => c.MessageType).ToList();
        foreach (var messageType in messageTypes)
        {
            if (stoppingToken.IsCancellationRequested) return;
            handlers.HandlerFor(messageType);
        }

        _compiled = true;
        logger.LogInformation("Compiled handlers for {Count} message types in {Elapsed:0} ms",
            messageTypes.Count, TimeProvider.System.GetElapsedTime(started).TotalMilliseconds);
    }, stoppingToken);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_compiled ? HealthCheckResult.Healthy("message handlers compiled") : HealthCheckResult.Unhealthy("compiling message handlers"));
}
