using Conveyor.Hosting;
using Conveyor.Hosting.ServiceControl;
using Conveyor.Topology;
using Conveyor.ServiceControl.Monitoring;
using Conveyor.ServiceControl.Operators;
using Microsoft.EntityFrameworkCore;
using Wolverine;

namespace Conveyor.ServiceControl.EndpointHealth;

/// <summary>
/// A heartbeat keeps its instance up, updates its checks and feeds the throughput charts — when it comes from the
/// endpoint it names: one endpoint's user cannot keep another's instances up (hiding an outage) or give it false checks.
/// </summary>
public static class EndpointHeartbeatHandler
{
    public static async Task Handle(EndpointHeartbeat heartbeat, Envelope envelope, ServiceControlDb db, EndpointThroughput throughput, TimeProvider clock, ILogger<EndpointHeartbeat> logger)
    {
        var sender = BrokerIdentity.SenderOf(envelope);
        if (SystemTopology.Endpoints.FirstOrDefault(e => e.Name == heartbeat.Endpoint) is not { } named || named.BrokerUser != sender)
        {
            throw new UntrustedSenderException($"A heartbeat for endpoint '{heartbeat.Endpoint}' was published by broker user '{sender ?? "(none)"}': only that endpoint's own user may send it. It was not recorded.");
        }

        var now = clock.GetUtcNow();
        var instance = await db.EndpointInstances.FindAsync(heartbeat.Endpoint, heartbeat.Host);
        if (instance is null)
        {
            instance = EndpointInstance.From(heartbeat);
            db.EndpointInstances.Add(instance);
            logger.LogInformation("New endpoint instance {Endpoint} on {Host}", heartbeat.Endpoint, heartbeat.Host);
        }

        instance.Apply(heartbeat, now);
        throughput.Record(heartbeat);
    }
}

/// <summary>Reads the endpoint instances with their up/down state.</summary>
public sealed class EndpointStatuses(ServiceControlDb db, AuditLog audit, ServiceControlOptions options, TimeProvider clock)
{
    public async Task<IReadOnlyList<EndpointInstanceStatus>> ListAsync(CancellationToken cancellation)
    {
        var now = clock.GetUtcNow();
        var instances = await db.EndpointInstances.AsNoTracking().OrderBy(i => i.Endpoint).ThenBy(i => i.Host).ToListAsync(cancellation);
        return instances.Select(i => EndpointInstanceStatus.Of(i, now, options.HeartbeatGracePeriod)).ToList();
    }

    /// <summary>
    /// Forgets an instance that is down for good (a host that was replaced, a pod that was rescheduled). An
    /// instance that is up cannot be forgotten: its next heartbeat would bring it back anyway.
    /// </summary>
    public async Task<ActionOutcome> ForgetAsync(string endpoint, string host, CancellationToken cancellation)
    {
        var instance = await db.EndpointInstances.FindAsync([endpoint, host], cancellation);
        if (instance is null) return ActionOutcome.NotFound($"No instance of {endpoint} on {host}.");
        if (instance.IsUp(clock.GetUtcNow(), options.HeartbeatGracePeriod)) return ActionOutcome.Conflict($"{endpoint} on {host} is up; only an instance that is down can be forgotten.");
        db.EndpointInstances.Remove(instance);
        audit.Record(AuditAction.ForgetEndpointInstance, $"forgot {endpoint} on {host}");
        await db.SaveChangesAsync(cancellation);
        return ActionOutcome.Done(1, $"Forgot {endpoint} on {host}.");
    }
}
