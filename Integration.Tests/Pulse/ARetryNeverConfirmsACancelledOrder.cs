using Integration.Tests.Infrastructure;
using Integration.Tests.System;

namespace Integration.Tests.Pulse;

/// <summary>
/// With the default short payment deadline the saga cancels the order before the operator retries: the
/// retry from Pulse is handled and resolved, and the order stays cancelled: for a voided payment Payments
/// only refunds what an earlier attempt may have taken (here nothing), it never charges.
/// </summary>
public class ARetryNeverConfirmsACancelledOrder : PulseFixture
{
    [Test]
    public async Task Retrying_after_the_deadline_from_the_browser_resolves_the_message_and_never_confirms_the_order()
    {
        await SetProviderOutage(true);
        Placed order;
        Guid id;
        try
        {
            order = await PlaceOrder("tok_ok");
            id = ServiceControlClient.IdOf(await ServiceControl.WaitForOrderPlacedAsync(order.Id, "the OrderPlaced in ServiceControl"));
            await WaitForState(order, "Cancelled(PaymentTimedOut)");
            await TestEnvironment.Eventually(() => SystemDatabases.PaymentStatusOf(order.Id), s => s == "Voided", "Payments to void the cancelled order's payment");
        }
        finally
        {
            await SetProviderOutage(false);
        }

        await Page.GotoAsync($"/messages/{id}");
        await Page.Locator("[data-test=retry]").ClickAsync();
        await Expect(Page.Locator("[data-test=status]")).ToHaveTextAsync("Resolved");
        var final = await GetOrder(order.Location);

        Assert.Multiple(async () =>
        {
            Assert.That(StateOf(final), Is.EqualTo("Cancelled(PaymentTimedOut)"));
            Assert.That(final.GetProperty("timeline").EnumerateArray().Select(t => t.GetProperty("status").GetString()), Has.No.Member("Confirmed"));
            Assert.That(await SystemDatabases.PaymentStatusOf(order.Id), Is.EqualTo("Voided"), "never charged");
            Assert.That(await SystemDatabases.RefundsFor(order.Id), Is.Zero, "nothing was taken, so nothing is refunded");
        });
    }
}
