using Conveyor.Topology;
using Integration.Tests.System;

namespace Integration.Tests.Faults;

/// <summary>
/// Two instances of an endpoint compete for its queue; one of them (the first, which holds the cluster's
/// leadership and its durability agent) is killed and not started again, as when a node is lost. The survivor
/// must eject it, take over everything it held (inbox, outbox, due scheduled messages) and carry on alone.
/// </summary>
[Category(ChaosOnly)]
public class ASurvivingInstanceCarriesOn : FaultFixture
{
    [TestCaseSource(nameof(BusinessEndpointNames))]
    public async Task The_survivor_takes_over_the_dead_instances_work_and_every_order_ends_confirmed(string endpoint)
    {
        await System.StartInstanceAsync(endpoint, 2);
        // Behind a load balancer: with two Orders instances the clients use both, and a retry reaches the live one.
        if (endpoint == SystemTopology.Orders.Name) OrderApis = [RunningSystem.ApiOf(endpoint, 1), RunningSystem.ApiOf(endpoint, 2)];
        try
        {
            var result = await BurstWithFaultAsync(
                $"two {endpoint} instances, one killed",
                $"Two {endpoint} instances; `kill -9` of the first once a tenth of the burst was accepted, and it stays dead: the second carries on alone.",
                KillThenRestart(endpoint, restart: false),
                duplicateEmailReason: endpoint == SystemTopology.Notifications.Name ? AKilledProcessChangesNoOrder.NotificationsDiedBetweenSendingAndRecording : null,
                takenOverBy: TakenOverBy(endpoint));

            result.AssertPassed();
        }
        finally
        {
            OrderApis = [RunningSystem.OrdersApi];
            await System.StartAgainAsync(endpoint);
            await System.StopAsync($"{endpoint}-2");
        }
    }
}
