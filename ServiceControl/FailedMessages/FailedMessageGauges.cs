using System.Diagnostics.Metrics;
using Conveyor.Hosting;

namespace Conveyor.ServiceControl.FailedMessages;

/// <summary>
/// How many failed messages are in each status, as the gauge <c>conveyor.failed_messages{status}</c> that
/// Prometheus alerts on. Counted every few seconds rather than on each scrape, so scrapes never query the database.
/// </summary>
internal sealed class FailedMessageGauges : PeriodicWork
{
    private static readonly Meter Meter = new(ConveyorTelemetry.Name + ".ServiceControl");
    private readonly IServiceScopeFactory _scopes;
    private FailedMessageCounts? _counts;

    public FailedMessageGauges(IServiceScopeFactory scopes, TimeProvider clock, ILogger<FailedMessageGauges> logger) : base(clock, logger)
    {
        _scopes = scopes;
        Meter.CreateObservableGauge("conveyor.failed_messages", Observe, "{message}", "Failed messages in ServiceControl, by status");
    }

    protected override TimeSpan Interval => TimeSpan.FromSeconds(5);

    protected override string FailureMessage => "Counting failed messages for the metrics failed";

    protected override async Task RunOnceAsync(CancellationToken cancellation)
    {
        await using var scope = _scopes.CreateAsyncScope();
        _counts = await scope.ServiceProvider.GetRequiredService<FailedMessageQueries>().CountsAsync(cancellation);
    }

    private IEnumerable<Measurement<int>> Observe()
    {
        if (_counts is not { } counts) yield break;
        yield return Status(counts.Unresolved, "unresolved");
        yield return Status(counts.RetryIssued, "retry_issued");
        yield return Status(counts.Resolved, "resolved");
        yield return Status(counts.Archived, "archived");
        yield return Status(counts.Rejected, "rejected");
    }

    private static Measurement<int> Status(int count, string status) => new(count, new KeyValuePair<string, object?>("status", status));
}
