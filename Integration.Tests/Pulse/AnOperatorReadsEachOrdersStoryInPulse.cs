using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conveyor.Topology;
using Integration.Tests.Infrastructure;
using Integration.Tests.System;
using Microsoft.Playwright;

namespace Integration.Tests.Pulse;

/// <summary>
/// ServiceInsight's views in Pulse, in a real browser: after the demo's six paths, every message of each order is found
/// by its id in All messages, and the orders' flows and sagas show what happened to them.
/// </summary>
public class AnOperatorReadsEachOrdersStoryInPulse : PulseFixture
{
    private readonly Dictionary<string, Placed> _orders = [];

    [OneTimeSetUp]
    public async Task RunTheDemosSixPaths()
    {
        foreach (var token in (string[])["tok_ok", "tok_declined", "tok_flaky", "tok_down", "tok_slow"]) _orders[token] = await PlaceOrder(token);
        _orders["cancel"] = await PlaceOrder("tok_ok");
        await WaitForState(_orders["cancel"], "Confirmed");
        var cancelled = await Api.PostAsync($"/orders/{_orders["cancel"].Id}/cancel", null);
        Assert.That(cancelled.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));

        await WaitForState(_orders["tok_ok"], "Confirmed");
        await WaitForState(_orders["tok_declined"], "Cancelled(PaymentDeclined)");
        await WaitForState(_orders["tok_flaky"], "Confirmed");
        await WaitForState(_orders["tok_down"], "Cancelled(PaymentTimedOut)");
        await WaitForState(_orders["tok_slow"], "Refunded(PaymentTimedOut)");
        await WaitForState(_orders["cancel"], "Refunded(CustomerRequested)");
        // The last steps: the deadlines of the confirmed orders (10 s) and the refund mails; then the store holds every copy.
        foreach (var order in _orders.Values)
        {
            await TestEnvironment.Eventually(() => StoredCountAsync(order.Id), _ => Settled(order.Id), $"order {order.Id}'s audited messages to settle", TimeSpan.FromSeconds(60));
        }
    }

    private readonly Dictionary<Guid, (int Count, DateTimeOffset Since)> _lastCounts = [];

    /// <summary>Settled: the same count of records for two seconds, the deadline's among them.</summary>
    private bool Settled(Guid order) => _lastCounts.TryGetValue(order, out var last) && DateTimeOffset.UtcNow - last.Since > TimeSpan.FromSeconds(2);

    private async Task<int> StoredCountAsync(Guid order)
    {
        var conversation = await ConversationAsync(order);
        var count = conversation.GetProperty("messages").EnumerateArray().Count();
        var hasDeadline = conversation.GetProperty("messages").EnumerateArray().Any(m => m.GetProperty("shortType").GetString() == "PaymentDeadlinePassed");
        if (!hasDeadline) count = -1;
        if (!_lastCounts.TryGetValue(order, out var last) || last.Count != count) _lastCounts[order] = (count, DateTimeOffset.UtcNow);
        return count;
    }

    private async Task<JsonElement> ConversationAsync(Guid order)
    {
        var response = await ServiceControl.Http.GetAsync($"/api/conversations/{order}");
        return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonElement>() : JsonDocument.Parse("""{"messages":[]}""").RootElement;
    }

    /// <summary>A node as the page draws it (Playwright reads it into a class with a parameterless constructor).</summary>
    public sealed class FlowNode
    {
        public string Type { get; set; } = "";
        public string Endpoint { get; set; } = "";
        public string Kind { get; set; } = "";
        public string Outcome { get; set; } = "";
        public string MessageId { get; set; } = "";
    }

    public sealed class FlowEdge
    {
        public string From { get; set; } = "";
        public string To { get; set; } = "";
        public string Kind { get; set; } = "";
    }

    private async Task<IReadOnlyList<FlowNode>> FlowNodes() =>
        await Page.Locator("[data-test=flow-node]").EvaluateAllAsync<FlowNode[]>(
            "nodes => nodes.map(n => ({ Type: n.dataset.type, Endpoint: n.dataset.endpoint, Kind: n.dataset.kind, Outcome: n.dataset.outcome, MessageId: n.dataset.messageId }))");

    /// <summary>The flow's edges, by the types of the messages they join.</summary>
    private async Task<IReadOnlyList<(string From, string To, string Kind)>> FlowEdges()
    {
        var nodes = await FlowNodes();
        var types = nodes.GroupBy(n => n.MessageId).ToDictionary(g => g.Key, g => g.First().Type);
        var edges = await Page.Locator("svg.flow .edge").EvaluateAllAsync<FlowEdge[]>(
            "edges => edges.map(e => ({ From: e.dataset.from, To: e.dataset.to, Kind: e.dataset.kind }))");
        return edges.Select(e => (types[e.From], types[e.To], e.Kind)).ToList();
    }

    /// <summary>Searches All messages for the order, as an operator would, and opens the row of <paramref name="type"/>.</summary>
    private async Task OpenFromAllMessages(Guid order, string type, string tab)
    {
        await Page.GotoAsync("/messages");
        await Page.Locator("[data-test=q]").FillAsync(order.ToString());
        await Page.Locator("[data-test=find]").ClickAsync();
        await Page.Locator("[data-test=message-row]").Filter(new() { HasText = type }).First.GetByRole(AriaRole.Link, new() { Name = type, Exact = true }).ClickAsync();
        await Page.Locator($"[data-test=tab-{tab}]").ClickAsync();
    }

    [Test]
    public async Task All_messages_finds_every_message_of_each_order_by_its_id()
    {
        foreach (var (path, order) in _orders)
        {
            var stored = (await ConversationAsync(order.Id)).GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToList();
            await Page.GotoAsync("/messages");
            await Page.Locator("[data-test=q]").FillAsync(order.Id.ToString());
            await Page.Locator("[data-test=find]").ClickAsync();
            await Expect(Page.Locator("[data-test=message-row]")).ToHaveCountAsync(stored.Count);
            var rows = await Page.Locator("[data-test=message-row]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.record + ' ' + r.dataset.conversation)");
            Assert.That(rows, Is.EquivalentTo(stored.Select(id => $"{id} {order.Id}")), $"the {path} order's messages, and only them");
            if (path == "tok_ok") await Screenshot("pulse-all-messages");
        }
    }

    [Test]
    public async Task The_confirmed_orders_flow_is_its_path_with_the_deadline_as_a_timeout()
    {
        await OpenFromAllMessages(_orders["tok_ok"].Id, "OrderConfirmed", "flow");
        await Expect(Page.Locator("svg.flow")).ToBeVisibleAsync();
        await Screenshot("pulse-flow-confirmed");

        var nodes = await FlowNodes();
        var edges = await FlowEdges();
        // The saga confirms on the later of the payment's and the stock's answers, whichever that was.
        var confirmedBy = edges.Where(e => e.To == "OrderConfirmed").Select(e => e.From).Distinct().ToList();
        Assert.Multiple(async () =>
        {
            Assert.That(nodes.Select(n => $"{n.Type}@{n.Endpoint}:{n.Kind}:{n.Outcome}"), Is.EquivalentTo(new[]
            {
                $"PlaceOrder@{SystemTopology.Orders.Name}:http:Processed",
                $"OrderPlaced@{SystemTopology.Payments.Name}:event:Processed",
                $"OrderPlaced@{SystemTopology.Notifications.Name}:event:Processed",
                $"OrderPlaced@{SystemTopology.Inventory.Name}:event:Processed",
                $"PaymentAuthorized@{SystemTopology.Orders.Name}:event:Processed",
                $"StockReserved@{SystemTopology.Orders.Name}:event:Processed",
                $"OrderConfirmed@{SystemTopology.Notifications.Name}:event:Processed",
                $"OrderConfirmed@{SystemTopology.Inventory.Name}:event:Processed",
                $"PaymentDeadlinePassed@{SystemTopology.Orders.Name}:timeout:Processed",
            }));
            Assert.That(confirmedBy, Is.EqualTo(new[] { "PaymentAuthorized" }).Or.EqualTo(new[] { "StockReserved" }), "one message confirmed the order");
            Assert.That(edges, Is.EquivalentTo(new[]
            {
                ("PlaceOrder", "OrderPlaced", "event"),
                ("PlaceOrder", "OrderPlaced", "event"),
                ("PlaceOrder", "OrderPlaced", "event"),
                ("PlaceOrder", "PaymentDeadlinePassed", "timeout"),
                ("OrderPlaced", "PaymentAuthorized", "event"),
                ("OrderPlaced", "StockReserved", "event"),
                (confirmedBy.FirstOrDefault() ?? "?", "OrderConfirmed", "event"),
                (confirmedBy.FirstOrDefault() ?? "?", "OrderConfirmed", "event"),
            }));
            Assert.That(await Page.Locator("[data-test=flow-node].selected").GetAttributeAsync("data-type"), Is.EqualTo("OrderConfirmed"), "the opened message is highlighted");
        });

        // A node opens its message; the sequence has a lifeline per endpoint.
        await Page.Locator("[data-test=flow-node][data-type=PaymentAuthorized] a").ClickAsync();
        await Expect(Page.Locator("h1")).ToContainTextAsync("PaymentAuthorized");
        await Page.Locator("[data-test=tab-sequence]").ClickAsync();
        await Expect(Page.Locator("[data-test=sequence-step]")).ToHaveCountAsync(nodes.Count);
        Assert.That(await Page.Locator("[data-test=lifeline]").EvaluateAllAsync<string[]>("ls => ls.map(l => l.dataset.endpoint)"),
            Is.EquivalentTo(new[] { "client", SystemTopology.Orders.Name, SystemTopology.Payments.Name, SystemTopology.Notifications.Name, SystemTopology.Inventory.Name }));
        await Screenshot("pulse-sequence-confirmed");
        await Page.Locator("[data-test=tab-body]").ClickAsync();
        await Expect(Page.Locator("[data-test=body]")).ToContainTextAsync($"\"orderId\": \"{_orders["tok_ok"].Id}\"");
    }

    [Test]
    public async Task The_slow_orders_saga_shows_the_deadline_firing_and_the_cancellation_with_what_it_changed()
    {
        await OpenFromAllMessages(_orders["tok_slow"].Id, "PaymentDeadlinePassed", "saga");
        var deadline = Page.Locator("[data-test=saga-step][data-type=PaymentDeadlinePassed]");
        await Expect(deadline).ToHaveAttributeAsync("data-kind", "timeout");
        await Expect(deadline.Locator("[data-test=timeout]")).ToBeVisibleAsync();
        await Expect(deadline.Locator("[data-test=state-change][data-path=status]")).ToContainTextAsync("\"Placed\" → \"Cancelled\"");
        await Expect(deadline.Locator("[data-test=state-change][data-path=cancellationReason]")).ToContainTextAsync("\"PaymentTimedOut\"");
        await Expect(deadline.Locator("[data-test=sent][data-type=OrderCancelled]")).ToHaveAttributeAsync("data-handled", "true");
        await Expect(Page.Locator("[data-test=saga-step]").First).ToHaveAttributeAsync("data-change", "created");
        await Screenshot("pulse-saga-slow");
    }

    [Test]
    public async Task The_cancelled_after_confirmation_orders_flow_shows_the_refund_branch()
    {
        await OpenFromAllMessages(_orders["cancel"].Id, "CancelOrder", "flow");
        var edges = await FlowEdges();
        var nodes = await FlowNodes();
        await Screenshot("pulse-flow-cancel-after-confirm");
        Assert.Multiple(() =>
        {
            Assert.That(edges, Does.Contain(("CancelOrder", "OrderCancelled", "event")));
            Assert.That(edges, Does.Contain(("OrderCancelled", "PaymentRefunded", "event")), "Payments refunded because of the cancellation");
            Assert.That(nodes.Where(n => n.Type == "PaymentRefunded").Select(n => n.Endpoint), Is.EquivalentTo(new[] { SystemTopology.Orders.Name, SystemTopology.Notifications.Name }));
            Assert.That(nodes.Single(n => n.Type == "CancelOrder").Kind, Is.EqualTo("http"));
        });
    }

    [Test]
    public async Task The_down_orders_failed_OrderPlaced_sits_in_its_flow_as_failed()
    {
        var failed = await ServiceControl.WaitForOrderPlacedAsync(_orders["tok_down"].Id, "tok_down's OrderPlaced in ServiceControl");
        await Page.GotoAsync($"/messages/{ServiceControlClient.IdOf(failed)}");
        await Page.Locator("[data-test=show-flow]").ClickAsync();
        var node = Page.Locator($"[data-test=flow-node][data-type=OrderPlaced][data-endpoint={SystemTopology.Payments.Name}]");
        await Expect(node).ToHaveAttributeAsync("data-outcome", "Failed");
        await Expect(node).ToHaveClassAsync(new global::System.Text.RegularExpressions.Regex(@"\bselected\b"));
        await Expect(Page.Locator($"[data-test=flow-node][data-type=OrderPlaced][data-endpoint={SystemTopology.Notifications.Name}]")).ToHaveAttributeAsync("data-outcome", "Processed");
        await Screenshot("pulse-flow-failed");
    }
}
