using Conveyor.ServiceControl.EndpointHealth;
using Conveyor.ServiceControl.FailedMessages;

namespace Conveyor.ServiceControl.Pages;

public sealed class IndexModel(FailedMessageQueries queries, EndpointStatuses endpoints, IngestionStatus ingestion, ServiceControlDb db, TimeProvider clock) : PulsePage(clock)
{
    public FailedMessageCounts Counts { get; private set; } = new(0, 0, 0, 0, 0);
    public IReadOnlyList<EndpointInstanceStatus> Endpoints { get; private set; } = [];
    public IReadOnlyList<FailureGroup> TopGroups { get; private set; } = [];
    public IngestionSnapshot Ingestion { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken cancellation)
    {
        Counts = await queries.CountsAsync(cancellation);
        Endpoints = await endpoints.ListAsync(cancellation);
        TopGroups = (await FailureGroups.ListAsync(db, FailureGroups.ByExceptionAndMessageType, FailedMessageStatus.Unresolved, page: 1, pageSize: 5, cancellation)).Items;
        Ingestion = ingestion.Current;
    }
}
