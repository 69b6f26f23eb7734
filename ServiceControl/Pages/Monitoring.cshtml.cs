using Conveyor.ServiceControl.Monitoring;

namespace Conveyor.ServiceControl.Pages;

public sealed class MonitoringModel(QueueLengths queues, EndpointThroughput throughput, TimeProvider clock) : PulsePage(clock)
{
    public IReadOnlyList<(string Queue, IReadOnlyList<QueueLengthSample> Samples)> Queues { get; } = queues.Snapshot();
    public string? QueueProblem { get; } = queues.Problem;
    public IReadOnlyList<(string Endpoint, string Host, IReadOnlyList<ThroughputSample> Samples)> Endpoints { get; } = throughput.Snapshot();

    public static string Rate(double perSecond) => perSecond.ToString(perSecond < 10 ? "0.00" : "0", System.Globalization.CultureInfo.InvariantCulture);
}
