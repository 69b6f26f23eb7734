using System.Text;
using Conveyor.Hosting;
using Conveyor.Topology;
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
        var failed = await ServiceControl.WaitForAsync(FailedMessages.FailedInPayments(messageId), "the invalid OrderPlaced in ServiceControl");
        var id = ServiceControlClient.IdOf(failed);

        await Page.GotoAsync($"/messages/{id}");
        await Page.Locator("[data-test=archive]").ClickAsync();
        await Expect(Page.Locator("[data-test=status]")).ToHaveTextAsync("Archived");

        await Page.GotoAsync("/failed/messages?status=Archived");
        await Expect(Page.Locator($"tr[data-message='{id}']")).ToBeVisibleAsync();
        await Page.GotoAsync("/failed/messages");
        await Expect(Page.Locator($"tr[data-message='{id}']")).ToHaveCountAsync(0);
    }

    [Test, Order(5)]
    public async Task Stored_markup_and_script_stay_text_and_what_PostgreSQL_refused_or_is_too_big_to_show_is_still_there()
    {
        const string script = "<script>window.pwned = 1</script>";
        const string image = "<img src=x onerror=\"window.pwned = 1\">";
        var hostileId = Guid.NewGuid().ToString();
        var hostile = FailedMessages.Failure(hostileId, "Tests.Hostile", "Tests.Boom", image, SystemTopology.Payments.Queue, DateTimeOffset.UtcNow);
        hostile.Headers!["x-note"] = Encoding.UTF8.GetBytes(script + "\0 and a NUL");
        var largeId = Guid.NewGuid().ToString();
        var large = FailedMessages.Failure(largeId, "Tests.Large", "Tests.Boom", "a large body", SystemTopology.Payments.Queue, DateTimeOffset.UtcNow);
        await using (var payments = await Broker.ConnectAsAsync(SystemTopology.Payments))
        {
            await payments.PublishAsync(ConveyorEndpoint.ErrorQueue, hostile, Encoding.UTF8.GetBytes($"{{\"comment\": \"{script}\"}}"));
            await payments.PublishAsync(ConveyorEndpoint.ErrorQueue, large, Encoding.UTF8.GetBytes("{\"blob\": \"" + new string('b', 5 * 1024 * 1024) + "\"}"));
        }

        var hostileRecord = await ServiceControl.WaitForAsync(m => m.GetProperty("messageId").GetString() == hostileId, "the hostile failure stored");
        var largeRecord = await ServiceControl.WaitForAsync(m => m.GetProperty("messageId").GetString() == largeId, "the 5 MB failure stored");

        await Page.GotoAsync("/failed?classifier=exception-message");
        await Expect(Page.GetByRole(AriaRole.Link, new() { Name = image, Exact = true })).ToBeVisibleAsync();
        await Page.GotoAsync($"/messages/{ServiceControlClient.IdOf(hostileRecord)}");
        await Expect(Page.Locator("[data-test=exception-message]")).ToHaveTextAsync(image);
        await Expect(Page.Locator("[data-test=body]")).ToContainTextAsync(script);
        await Expect(Page.Locator("table.headers")).ToContainTextAsync(script);
        var pwned = await Page.EvaluateAsync<bool>("() => window.pwned === 1 || document.querySelector('#message img, .body script, .headers script') !== null");

        await Page.GotoAsync($"/messages/{ServiceControlClient.IdOf(largeRecord)}");
        await Expect(Page.Locator("[data-test=body-not-shown]")).ToContainTextAsync("5 MB");
        await Expect(Page.Locator("[data-test=download-body]")).ToHaveAttributeAsync("href", $"/api/failed-messages/{ServiceControlClient.IdOf(largeRecord)}/body");
        var pageSize = (await Page.ContentAsync()).Length;

        Assert.Multiple(() =>
        {
            Assert.That(pwned, Is.False, "no stored markup ran or became an element");
            Assert.That(hostileRecord.GetProperty("storageNote").GetString(), Does.Contain("NUL"), "the NUL noted, the header kept");
            Assert.That(pageSize, Is.LessThan(1024 * 1024), "the page does not carry the 5 MB body");
        });
    }

    [Test, Order(6)]
    public async Task A_form_posted_without_its_antiforgery_token_is_refused_and_changes_nothing()
    {
        // A page elsewhere making the operator's browser post Pulse's "retry all" form: the cookie goes along
        // (SameSite=Lax does not stop a top-level POST from a same-site page), the antiforgery token does not.
        using var forger = await WithPulseCookiesAsync(everyCookie: true);
        var auditBefore = await Sql.ScalarAsync<long>(RunningSystem.ServiceControlDatabase, "select count(*) from audit_log");

        using var forged = await forger.PostAsync("/failed?handler=RetryAll", new FormUrlEncodedContent([]));
        using var wrongToken = await forger.PostAsync("/failed?handler=RetryAll", new FormUrlEncodedContent([new("__RequestVerificationToken", "forged")]));
        var auditAfter = await Sql.ScalarAsync<long>(RunningSystem.ServiceControlDatabase, "select count(*) from audit_log");

        Assert.Multiple(() =>
        {
            Assert.That(forged.StatusCode, Is.EqualTo(global::System.Net.HttpStatusCode.BadRequest), "no token");
            Assert.That(wrongToken.StatusCode, Is.EqualTo(global::System.Net.HttpStatusCode.BadRequest), "a made-up token");
            Assert.That(auditAfter, Is.EqualTo(auditBefore), "no action was taken");
        });
    }

    [Test, Order(4)]
    public async Task The_endpoints_page_shows_four_healthy_endpoints_and_monitoring_shows_the_queues()
    {
        await Page.GotoAsync("/endpoints");
        foreach (var endpoint in SystemTopology.Endpoints.Select(e => e.Name))
        {
            await Expect(Page.Locator($"tr[data-endpoint='{endpoint}']")).ToHaveAttributeAsync("data-state", "up");
        }

        await Screenshot("pulse-endpoints");

        await Page.GotoAsync("/monitoring");
        await Expect(Page.Locator($"tr[data-queue='{SystemTopology.Payments.Queue}']")).ToBeVisibleAsync();
        // A chart with samples (Payments' rates between two heartbeats), not the empty placeholder.
        await Expect(Page.Locator($"[data-test=throughput] tr[data-endpoint='{SystemTopology.Payments.Name}'] svg.spark[aria-label^='last']").First).ToBeVisibleAsync();
        await Screenshot("pulse-monitoring");
    }
}
