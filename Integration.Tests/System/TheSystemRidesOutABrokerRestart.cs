using Conveyor.Topology;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conveyor.Messages;
using Integration.Tests.Infrastructure;
using Integration.Tests.ServiceControl;
using RabbitMQ.Client;

namespace Integration.Tests.System;

/// <summary>
/// RabbitMQ restarts while orders are in flight and while ServiceControl ingests a burst of failures.
/// Nothing is restarted but the broker: the processes must reconnect by themselves, every order must still
/// reach its end exactly once, and every failure must be stored exactly once.
/// </summary>
public class TheSystemRidesOutABrokerRestart : SystemFixture
{
    protected override void RequireMore()
    {
        if (!File.Exists("/etc/init.d/rabbitmq-server") || Environment.UserName != "root")
        {
            Assert.Ignore("Restarting RabbitMQ needs its init script and root (./build.sh test runs as root in CI).");
        }
    }

    private async Task<string> StateOf(Uri location) => StateOf(await GetOrder(location));

    internal static async Task RestartRabbitMq()
    {
        await Shell.RunAsync("service", "rabbitmq-server", "restart");
        await Shell.RunAsync("rabbitmqctl", "-q", "await_startup", "--timeout", "120");
    }

    [Test, Order(1)]
    public async Task Orders_in_flight_reach_their_end_exactly_once_and_every_failure_is_stored_once()
    {
        var processes = System.Processes.Select(p => p.Id).ToList();

        // A failure parked before the restart: an OrderPlaced that breaks the contract goes to error at once,
        // and ServiceControl stores it.
        using var serviceControl = ServiceControlClient.ForRunningSystem();
        var (_, parkedId) = await FailedMessages.SendInvalidOrderPlacedAsync();
        var parkedFailure = await serviceControl.WaitForAsync(FailedMessages.FailedInPayments(parkedId), "the invalid OrderPlaced stored by ServiceControl");

        var inFlight = new List<(Guid Id, Uri Location, string Expected)>();
        for (var i = 0; i < 6; i++)
        {
            var placed = await PlaceOrder("tok_ok");
            inFlight.Add((placed.Id, placed.Location, "Confirmed"));
        }

        var slow = await PlaceOrder("tok_slow");
        inFlight.Add((slow.Id, slow.Location, "Refunded(PaymentTimedOut)"));
        var declined = await PlaceOrder("tok_declined");
        inFlight.Add((declined.Id, declined.Location, "Cancelled(PaymentDeclined)"));

        // A burst of failures lands in error just before the restart: ServiceControl is still ingesting it when
        // the broker goes away.
        var burst = await FailureBurst.PublishAsync(1000);

        await RestartRabbitMq();

        // Orders placed after the restart flow too: the senders reconnected, not only the listeners.
        var after = await PlaceOrder("tok_ok");
        inFlight.Add((after.Id, after.Location, "Confirmed"));

        foreach (var order in inFlight)
        {
            await TestEnvironment.Eventually(() => StateOf(order.Location), s => s == order.Expected, $"order {order.Id} to be {order.Expected}", TimeSpan.FromSeconds(120));
        }

        await TestEnvironment.Eventually(() => burst.StoredAsync(), stored => stored.Messages == burst.Count,
            $"ServiceControl to store all {burst.Count} failures of the burst", TimeSpan.FromSeconds(120));
        var parkedAfterRestart = await serviceControl.GetAsync(ServiceControlClient.IdOf(parkedFailure));
        var stored = await burst.StoredAsync();

        Assert.Multiple(async () =>
        {
            Assert.That(System.Processes.Select(p => p.Id), Is.EqualTo(processes), "no endpoint was restarted");
            Assert.That(ServiceControlClient.Header(parkedAfterRestart, "exception-type"), Does.EndWith("MessageValidationException"));
            Assert.That(ServiceControlClient.FailureCountOf(parkedAfterRestart), Is.EqualTo(1));
            Assert.That(stored.Failures, Is.EqualTo(burst.Count), "every failure of the burst recorded once, none twice");
            Assert.That(stored.MaxFailureCount, Is.EqualTo(1), "a redelivery after the restart is not a second failure");
            foreach (var order in inFlight)
            {
                Assert.That(await SystemDatabases.PaymentsFor(order.Id), Is.EqualTo(1), $"one payment for {order.Id}");
                var expectedMails = order.Expected switch { "Confirmed" => 1, "Cancelled(PaymentDeclined)" => 1, _ => 2 };
                await TestEnvironment.Eventually(() => SystemDatabases.NotificationsFor(order.Id), n => n >= expectedMails, $"mails recorded for {order.Id}");
                Assert.That(await SystemDatabases.NotificationsFor(order.Id), Is.EqualTo(expectedMails), $"e-mails for {order.Id}");
                Assert.That((await SmtpCatcher.MessagesAbout(order.Id)).Count, Is.EqualTo(expectedMails), $"e-mails received for {order.Id}");
            }
        });
    }

    [Test, Order(2)]
    public async Task Without_Payments_the_payment_status_still_answers_from_what_Orders_was_told()
    {
        var order = await PlaceOrder("tok_ok");
        await TestEnvironment.Eventually(() => StateOf(order.Location), s => s == "Confirmed", "the order to be Confirmed");
        await System.StopAsync(SystemTopology.Payments.Name);

        var report = await Api.GetFromJsonAsync<JsonElement>($"{order.Location}/payment");

        Assert.Multiple(() =>
        {
            Assert.That(report.GetProperty("status").GetString(), Is.EqualTo("Authorized"));
            Assert.That(report.GetProperty("amount").GetDecimal(), Is.EqualTo(62.40m));
        });
    }
}
