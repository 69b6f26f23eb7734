using Integration.Tests.Infrastructure;
using Integration.Tests.ServiceControl;
using Integration.Tests.System;
using Microsoft.Playwright;

namespace Integration.Tests.Pulse;

/// <summary>
/// An operator in Pulse, with a payment deadline longer than the provider outage: a failed payment retried
/// from the browser confirms the order.
/// </summary>
public class AnOperatorPutsFailuresRightInPulse : PulseFixture
{
    private const string OutageGroup = "Conveyor.Payments.PaymentProviderUnavailableException in Conveyor.Messages.OrderPlaced";

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Orders__PaymentDeadline"] = "00:05:00",
    };

    [Test, Order(1)]
    public async Task A_payment_failed_in_an_outage_is_seen_retried_from_the_browser_and_the_order_is_confirmed()
    {
        await SetProviderOutage(true);
        Placed order;
        try
        {
            order = await PlaceOrder("tok_ok");
            await Page.GotoAsync("/");
            await Expect(Page.Locator("[data-test=failed-count] strong")).Not.ToHaveTextAsync("0");
            var failed = await ServiceControl.WaitForOrderPlacedAsync(order.Id, "the OrderPlaced in ServiceControl");
            await Screenshot("pulse-dashboard");

            await Page.GotoAsync("/failed");
            await Expect(Page.GetByRole(AriaRole.Link, new() { Name = OutageGroup, Exact = true })).ToBeVisibleAsync();
            await Screenshot("pulse-failed-groups");

            await OpenFailedMessageFromTheGroups(ServiceControlClient.IdOf(failed), OutageGroup);
            await Expect(Page.Locator("[data-test=stack-trace]")).ToContainTextAsync("PaymentProviderSimulator");
            await Expect(Page.Locator("[data-test=exception-message]")).ToContainTextAsync("outage");
            await Screenshot("pulse-message-detail");
        }
        finally
        {
            await SetProviderOutage(false);
        }

        await Page.Locator("[data-test=retry]").ClickAsync();
        await Expect(Page.Locator(".notice")).ToHaveTextAsync("1 message retried.");
        await WaitForState(order, "Confirmed");
        // The page refreshes itself: the record turns Resolved once Payments confirms the retry.
        await Expect(Page.Locator("[data-test=status]")).ToHaveTextAsync("Resolved");
        // Who did it is on the message and in the audit log.
        await Expect(Page.Locator("#actions [data-test=audit-operator]")).ToHaveTextAsync("olivia");
        await Expect(Page.Locator("#actions [data-test=audit-action]")).ToHaveTextAsync("Retry");
        await Page.GotoAsync("/audit");
        await Expect(Page.Locator("[data-test=audit-entry]").Filter(new() { HasText = "olivia" }).First).ToContainTextAsync("Retry");

        await Page.GotoAsync("/failed/messages");
        await Expect(Page.Locator("[data-test=messages]")).ToBeVisibleAsync();
        Assert.That(await Page.Locator($"tr[data-message]").Filter(new() { HasText = order.Id.ToString() }).CountAsync(), Is.Zero, "the message left the list");
    }

    [Test, Order(2)]
    public async Task A_group_retry_from_the_browser_confirms_every_order_in_it()
    {
        await SetProviderOutage(true);
        Placed first, second;
        Guid[] ids;
        try
        {
            first = await PlaceOrder("tok_ok");
            second = await PlaceOrder("tok_ok");
            ids =
            [
                ServiceControlClient.IdOf(await ServiceControl.WaitForOrderPlacedAsync(first.Id, "the first OrderPlaced in ServiceControl")),
                ServiceControlClient.IdOf(await ServiceControl.WaitForOrderPlacedAsync(second.Id, "the second OrderPlaced in ServiceControl")),
            ];
        }
        finally
        {
            await SetProviderOutage(false);
        }

        await Page.GotoAsync("/failed");
        var row = Page.Locator("tr[data-group]").Filter(new() { HasText = OutageGroup });
        await Expect(row.Locator("td.num")).ToHaveTextAsync("2");
        await row.Locator("[data-test=retry-group]").ClickAsync();
        await Expect(Page.Locator(".notice")).ToHaveTextAsync("2 messages retried.");

        await WaitForState(first, "Confirmed");
        await WaitForState(second, "Confirmed");
        foreach (var id in ids) await ServiceControl.WaitForStatusAsync(id, "Resolved");
        await Expect(row).ToHaveCountAsync(0); // the live list drops the group: nothing in it is unresolved any more
    }

    [Test, Order(3)]
    public async Task A_message_archived_from_the_browser_leaves_the_list_for_the_archive()
    {
        var (_, messageId) = await FailedMessages.SendInvalidOrderPlacedAsync();
        var failed = await ServiceControl.WaitForAsync(m => m.GetProperty("messageId").GetString() == messageId, "the invalid OrderPlaced in ServiceControl");
        var id = ServiceControlClient.IdOf(failed);

        await Page.GotoAsync($"/messages/{id}");
        await Page.Locator("[data-test=archive]").ClickAsync();
        await Expect(Page.Locator("[data-test=status]")).ToHaveTextAsync("Archived");

        await Page.GotoAsync("/failed/messages?status=Archived");
        await Expect(Page.Locator($"tr[data-message='{id}']")).ToBeVisibleAsync();
        await Page.GotoAsync("/failed/messages");
        await Expect(Page.Locator($"tr[data-message='{id}']")).ToHaveCountAsync(0);
    }

    [Test, Order(4)]
    public async Task The_endpoints_page_shows_four_healthy_endpoints_and_monitoring_shows_the_queues()
    {
        await Page.GotoAsync("/endpoints");
        foreach (var endpoint in new[] { "orders", "payments", "notifications", "servicecontrol" })
        {
            await Expect(Page.Locator($"tr[data-endpoint='{endpoint}']")).ToHaveAttributeAsync("data-state", "up");
        }

        await Screenshot("pulse-endpoints");

        await Page.GotoAsync("/monitoring");
        await Expect(Page.Locator("tr[data-queue='payments']")).ToBeVisibleAsync();
        // A chart with samples (Payments' rates between two heartbeats), not the empty placeholder.
        await Expect(Page.Locator("[data-test=throughput] tr[data-endpoint='payments'] svg.spark[aria-label^='last']").First).ToBeVisibleAsync();
        await Screenshot("pulse-monitoring");
    }
}
