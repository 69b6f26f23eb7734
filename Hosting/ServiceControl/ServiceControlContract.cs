namespace Conveyor.Hosting.ServiceControl;

/// <summary>
/// What every endpoint tells ServiceControl, and how a message retried by ServiceControl is recognised.
/// These are platform messages, not business contracts: each travels through its own exchange to ServiceControl's queue
/// only (<see cref="Conveyor.Topology.SystemTopology.PlatformCommands"/>).
/// </summary>
public static class ServiceControlContract
{
    /// <summary>The namespace of ServiceControl's own messages (heartbeats, retry confirmations), which belong to no order.</summary>
    public static readonly string Namespace = typeof(ServiceControlContract).Namespace!;

    /// <summary>
    /// On a message ServiceControl sends back for another attempt: the id of its failed-message record. An
    /// endpoint that handles such a message successfully answers with <see cref="RetrySucceeded"/>.
    /// </summary>
    public const string RetryHeader = "conveyor-retry-of";

    /// <summary>On an edited copy of a failed message: the message id of the original.</summary>
    public const string EditedFromHeader = "conveyor-edited-from";
}

/// <summary>"I am alive, and this is how I am doing": sent by every endpoint instance on a fixed interval.</summary>
/// <param name="Endpoint">The endpoint's name (also its queue), e.g. <c>payments</c>.</param>
/// <param name="Host">The machine (or pod) the instance runs on: one instance per endpoint and host.</param>
/// <param name="ProcessId">The instance's process, which changes when it restarts.</param>
/// <param name="StartedAt">When the process started; counters restart from zero with it.</param>
/// <param name="SentAt">When this heartbeat was taken.</param>
/// <param name="Interval">How often the instance sends one, so ServiceControl can judge silence.</param>
/// <param name="Checks">The instance's own checks (database, broker, SMTP, ...), as of <paramref name="SentAt"/>.</param>
/// <param name="Counters">Message counters since <paramref name="StartedAt"/>.</param>
public sealed record EndpointHeartbeat(
    string Endpoint,
    string Host,
    int ProcessId,
    DateTimeOffset StartedAt,
    DateTimeOffset SentAt,
    TimeSpan Interval,
    IReadOnlyList<CheckResult> Checks,
    MessageCounters Counters);

/// <summary>One custom check of an endpoint instance: passing or not, and why.</summary>
public sealed record CheckResult(string Name, bool Passed, string? Reason);

/// <summary>Cumulative counts since the instance started; ServiceControl turns them into rates.</summary>
/// <param name="Processed">Messages handled successfully.</param>
/// <param name="Retried">Failed attempts that were retried (immediately or delayed).</param>
/// <param name="MovedToError">Messages given up on and moved to the <c>error</c> queue.</param>
/// <param name="ProcessingMilliseconds">Total handler time of every attempt.</param>
/// <param name="Attempts">Handler executions the processing time is spread over.</param>
public sealed record MessageCounters(long Processed, long Retried, long MovedToError, double ProcessingMilliseconds, long Attempts);

/// <summary>A message ServiceControl retried has now been handled successfully by <paramref name="Endpoint"/>.</summary>
public sealed record RetrySucceeded(Guid FailedMessageId, string Endpoint, DateTimeOffset HandledAt);
