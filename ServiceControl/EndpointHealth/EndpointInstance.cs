using Conveyor.Hosting.ServiceControl;

namespace Conveyor.ServiceControl.EndpointHealth;

/// <summary>One running copy of an endpoint (per host), as its heartbeats describe it.</summary>
public sealed class EndpointInstance
{
    public string Endpoint { get; set; } = "";
    public string Host { get; set; } = "";
    public int ProcessId { get; set; }
    public DateTimeOffset StartedAt { get; set; }

    /// <summary>When the instance last sent a heartbeat (a backlog delivered late does not make a dead instance look alive).</summary>
    public DateTimeOffset LastSeenAt { get; set; }

    public TimeSpan HeartbeatInterval { get; set; }
    public List<CheckResult> Checks { get; set; } = [];

    public static EndpointInstance From(EndpointHeartbeat heartbeat) => new() { Endpoint = heartbeat.Endpoint, Host = heartbeat.Host };

    public void Apply(EndpointHeartbeat heartbeat, DateTimeOffset receivedAt)
    {
        var sentAt = heartbeat.SentAt > receivedAt ? receivedAt : heartbeat.SentAt;
        if (sentAt < LastSeenAt) return; // an older heartbeat, overtaken
        ProcessId = heartbeat.ProcessId;
        StartedAt = heartbeat.StartedAt;
        LastSeenAt = sentAt;
        HeartbeatInterval = heartbeat.Interval;
        Checks = heartbeat.Checks.ToList();
    }

    /// <summary>Up while heartbeats keep coming: silent for longer than the grace period, it is down.</summary>
    public bool IsUp(DateTimeOffset now, TimeSpan gracePeriod) => now - LastSeenAt <= gracePeriod;
}

/// <summary>An endpoint instance's state as shown to operators.</summary>
public sealed record EndpointInstanceStatus(
    string Endpoint,
    string Host,
    int ProcessId,
    bool Up,
    DateTimeOffset StartedAt,
    DateTimeOffset LastSeenAt,
    IReadOnlyList<CheckResult> Checks)
{
    public bool Healthy => Up && Checks.All(c => c.Passed);

    public static EndpointInstanceStatus Of(EndpointInstance instance, DateTimeOffset now, TimeSpan gracePeriod) =>
        new(instance.Endpoint, instance.Host, instance.ProcessId, instance.IsUp(now, gracePeriod), instance.StartedAt, instance.LastSeenAt, instance.Checks);
}
