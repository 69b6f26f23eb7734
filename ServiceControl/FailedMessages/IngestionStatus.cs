using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Conveyor.ServiceControl.FailedMessages;

/// <summary>
/// How the ingestion of one queue is doing, for the dashboard, <c>/api/ingestion</c> and readiness: a message that
/// cannot be stored stays in its queue (<c>error</c>, <c>audit</c>) and shows up here, instead of disappearing.
/// </summary>
public class IngestionStatus(string queue) : IHealthCheck
{
    /// <summary><c>error</c>'s, which the dashboard, <c>/api/ingestion</c> and the <c>ingestion</c> check have always meant.</summary>
    public IngestionStatus() : this(Topology.SystemTopology.ErrorQueue) { }

    public string Queue { get; } = queue;

    private readonly Lock _lock = new();
    private IngestionSnapshot _snapshot = new(false, null, 0, null, null, null, 0);

    public IngestionSnapshot Current
    {
        get { lock (_lock) return _snapshot; }
    }

    internal void Consuming(DateTimeOffset at) => Update(s => s with { Consuming = true, Problem = null, ProblemSince = null });

    internal void BrokerUnavailable(string reason, DateTimeOffset at) =>
        Update(s => s with { Consuming = false, Problem = $"cannot consume the {Queue} queue: {reason}", ProblemSince = s.ProblemSince ?? at });

    internal void StoreFailed(string messageId, string reason, DateTimeOffset at) =>
        Update(s => s with { Problem = $"message {messageId} could not be stored (it stays in the {Queue} queue): {reason}", ProblemSince = s.ProblemSince ?? at, FailedStoreAttempts = s.FailedStoreAttempts + 1 });

    internal void Stored(DateTimeOffset at, int count = 1) =>
        Update(s => s with { Stored = s.Stored + count, LastStoredAt = at, Problem = null, ProblemSince = null, LastProblemResolvedAt = s.Problem is null ? s.LastProblemResolvedAt : at });

    private void Update(Func<IngestionSnapshot, IngestionSnapshot> change)
    {
        lock (_lock) _snapshot = change(_snapshot);
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // Not consuming at all: not ready. Consuming but unable to store: ready (the API and Pulse still
        // answer), degraded, and a failing check on the dashboard.
        var current = Current;
        return Task.FromResult(
            !current.Consuming ? HealthCheckResult.Unhealthy(current.Problem ?? $"not consuming the {Queue} queue yet")
            : current.Problem is not null ? HealthCheckResult.Degraded(current.Problem)
            : HealthCheckResult.Healthy($"{current.Stored} messages from {Queue} stored since start"));
    }
}

/// <summary>How ServiceControl is doing with <c>audit</c>.</summary>
public sealed class AuditIngestionStatus() : IngestionStatus(Topology.SystemTopology.AuditQueue);

/// <param name="Consuming">Whether the queue is being consumed right now.</param>
/// <param name="Problem">What is wrong, if anything.</param>
/// <param name="Stored">Messages stored since start.</param>
/// <param name="LastStoredAt">When the last one was stored.</param>
/// <param name="ProblemSince">Since when the problem lasts.</param>
/// <param name="LastProblemResolvedAt">When ingestion last recovered from a problem.</param>
/// <param name="FailedStoreAttempts">Deliveries that could not be stored (and went back to the queue).</param>
public sealed record IngestionSnapshot(
    bool Consuming,
    string? Problem,
    long Stored,
    DateTimeOffset? LastStoredAt,
    DateTimeOffset? ProblemSince,
    DateTimeOffset? LastProblemResolvedAt,
    long FailedStoreAttempts);
