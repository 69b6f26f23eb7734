using Conveyor.ServiceControl.EndpointHealth;

namespace Conveyor.ServiceControl.Pages;

public sealed class EndpointsModel(EndpointStatuses endpoints, ServiceControlOptions options, TimeProvider clock) : PulsePage(clock)
{
    public IReadOnlyList<EndpointInstanceStatus> Instances { get; private set; } = [];
    public TimeSpan GracePeriod => options.HeartbeatGracePeriod;

    public async Task OnGetAsync(CancellationToken cancellation) => Instances = await endpoints.ListAsync(cancellation);
}
