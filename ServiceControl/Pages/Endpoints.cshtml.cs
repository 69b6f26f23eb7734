using Conveyor.ServiceControl.EndpointHealth;
using Microsoft.AspNetCore.Mvc;

namespace Conveyor.ServiceControl.Pages;

public sealed class EndpointsModel(EndpointStatuses endpoints, ServiceControlOptions options, TimeProvider clock) : PulsePage(clock)
{
    public IReadOnlyList<EndpointInstanceStatus> Instances { get; private set; } = [];
    public TimeSpan GracePeriod => options.HeartbeatGracePeriod;

    public async Task OnGetAsync(CancellationToken cancellation) => Instances = await endpoints.ListAsync(cancellation);

    public async Task<IActionResult> OnPostForgetAsync(string endpoint, string host, CancellationToken cancellation) =>
        AfterAction(await endpoints.ForgetAsync(endpoint, host, cancellation));
}
