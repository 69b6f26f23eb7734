using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Wolverine.Runtime.Handlers;

namespace Conveyor.Hosting;

/// <summary>
/// Wolverine builds each message handler on its first message: it loads the handler type generated at build time
/// (or, in a host built without it, generates and compiles one with Roslyn, seconds per handler). Doing it for every
/// handler right after start-up, before the endpoint reports ready, keeps that cost off the first customer's order,
/// and a handler type missing from the build stops the host at start-up instead of failing messages. Hand-written
/// because Wolverine has no start-up switch for it.
/// </summary>
internal sealed class LoadHandlersOnStartup(HandlerGraph handlers, ILogger<LoadHandlersOnStartup> logger)
    : BackgroundService, IHealthCheck
{
    private volatile bool _loaded;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(() =>
    {
        var started = TimeProvider.System.GetTimestamp();
        var messageTypes = handlers.Chains.Select(c => c.MessageType).ToList();
        foreach (var messageType in messageTypes)
        {
            if (stoppingToken.IsCancellationRequested) return;
            handlers.HandlerFor(messageType);
        }

        _loaded = true;
        logger.LogInformation("Loaded the handlers of {Count} message types in {Elapsed:0} ms",
            messageTypes.Count, TimeProvider.System.GetElapsedTime(started).TotalMilliseconds);
    }, stoppingToken);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_loaded ? HealthCheckResult.Healthy("message handlers loaded") : HealthCheckResult.Unhealthy("loading message handlers"));
}
