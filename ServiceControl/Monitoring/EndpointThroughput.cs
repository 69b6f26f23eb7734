using Conveyor.Hosting.ServiceControl;

namespace Conveyor.ServiceControl.Monitoring;

/// <summary>One interval between two heartbeats of an instance: rates per second and mean processing time.</summary>
public sealed record ThroughputSample(DateTimeOffset At, double ProcessedPerSecond, double RetriedPerSecond, double FailedPerSecond, double? ProcessingMilliseconds);

/// <summary>
/// Turns the cumulative counters in heartbeats into recent rates per endpoint instance. Kept in memory:
/// the charts show the last minutes, and after a restart the next heartbeats refill them.
/// </summary>
public sealed class EndpointThroughput
{
    public const int SamplesKept = 60;

    private readonly Lock _lock = new();
    private readonly Dictionary<(string Endpoint, string Host), (EndpointHeartbeat Last, Queue<ThroughputSample> Samples)> _instances = [];

    public void Record(EndpointHeartbeat heartbeat)
    {
        var key = (heartbeat.Endpoint, heartbeat.Host);
        lock (_lock)
        {
            if (!_instances.TryGetValue(key, out var state))
            {
                _instances[key] = (heartbeat, new Queue<ThroughputSample>());
                return;
            }

            if (heartbeat.SentAt <= state.Last.SentAt) return; // late or repeated heartbeat
            var sample = Between(state.Last, heartbeat);
            if (sample is not null)
            {
                state.Samples.Enqueue(sample);
                while (state.Samples.Count > SamplesKept) state.Samples.Dequeue();
            }

            _instances[key] = (heartbeat, state.Samples);
        }
    }

    /// <summary>The rates between two heartbeats; none across a restart (the counters started again).</summary>
    internal static ThroughputSample? Between(EndpointHeartbeat previous, EndpointHeartbeat current)
    {
        if (current.ProcessId != previous.ProcessId || current.StartedAt != previous.StartedAt) return null;
        var seconds = (current.SentAt - previous.SentAt).TotalSeconds;
        if (seconds <= 0) return null;
        var (a, b) = (previous.Counters, current.Counters);
        var attempts = b.Attempts - a.Attempts;
        return new ThroughputSample(
            current.SentAt,
            (b.Processed - a.Processed) / seconds,
            (b.Retried - a.Retried) / seconds,
            (b.MovedToError - a.MovedToError) / seconds,
            attempts > 0 ? (b.ProcessingMilliseconds - a.ProcessingMilliseconds) / attempts : null);
    }

    /// <summary>Drops the instances that sent nothing since <paramref name="silentSince"/>: pods come and go, and their names with them.</summary>
    public int Forget(DateTimeOffset silentSince)
    {
        lock (_lock)
        {
            var gone = _instances.Where(i => i.Value.Last.SentAt < silentSince).Select(i => i.Key).ToList();
            foreach (var key in gone) _instances.Remove(key);
            return gone.Count;
        }
    }

    public IReadOnlyList<(string Endpoint, string Host, IReadOnlyList<ThroughputSample> Samples)> Snapshot()
    {
        lock (_lock)
        {
            return _instances
                .OrderBy(i => i.Key.Endpoint).ThenBy(i => i.Key.Host)
                .Select(i => (i.Key.Endpoint, i.Key.Host, (IReadOnlyList<ThroughputSample>)i.Value.Samples.ToList()))
                .ToList();
        }
    }
}
