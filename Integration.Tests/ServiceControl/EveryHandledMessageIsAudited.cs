using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conveyor.Topology;
using Integration.Tests.Infrastructure;
using Integration.Tests.System;
using RabbitMQ.Client;

namespace Integration.Tests.ServiceControl;

/// <summary>
/// Every message an endpoint handles reaches ServiceControl's store as an audit copy, with its cause, its conversation
/// and, for the order saga, its state: an order's story read back through the API as an operator would, on the real
/// processes, broker and databases.
/// </summary>
public class EveryHandledMessageIsAudited : SystemFixture
{
    private ServiceControlClient _serviceControl = null!;
    private Broker _broker = null!;

    /// <summary>What a tok_ok order's conversation holds once its deadline has passed: type @ handling endpoint.</summary>
    private static readonly string[] ConfirmedOrdersSteps =
    [
        $"PlaceOrder@{SystemTopology.Orders.Name}",
        $"OrderPlaced@{SystemTopology.Payments.Name}",
        $"OrderPlaced@{SystemTopology.Notifications.Name}",
        $"OrderPlaced@{SystemTopology.Inventory.Name}",
        $"PaymentAuthorized@{SystemTopology.Orders.Name}",
        $"StockReserved@{SystemTopology.Orders.Name}",
        $"OrderConfirmed@{SystemTopology.Notifications.Name}",
        $"OrderConfirmed@{SystemTopology.Inventory.Name}",
        $"PaymentDeadlinePassed@{SystemTopology.Orders.Name}",
    ];

    [OneTimeSetUp]
    public async Task ConnectTheTools()
    {
        _serviceControl = ServiceControlClient.ForRunningSystem();
        _broker = await Broker.ConnectAsync();
    }

    [OneTimeTearDown]
    public async Task DisconnectTheTools()
    {
        _serviceControl?.Dispose();
        if (_broker is not null) await _broker.DisposeAsync();
    }

    /// <summary>The conversation as the API answers it, or null while it has no record (404).</summary>
    private async Task<JsonElement?> ConversationAsync(object id)
    {
        var response = await _serviceControl.Http.GetAsync($"/api/conversations/{id}");
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private async Task<IReadOnlyList<JsonElement>> MessagesOf(Guid orderId, int count) =>
        (await TestEnvironment.Eventually(() => ConversationAsync(orderId), c => c is { } found && found.GetProperty("messages").GetArrayLength() >= count,
            $"{count} audited messages of order {orderId}", TimeSpan.FromSeconds(60)))!.Value.GetProperty("messages").EnumerateArray().ToList();

    private static string Step(JsonElement message) => $"{message.GetProperty("shortType").GetString()}@{message.GetProperty("processingEndpoint").GetString()}";

    private static JsonElement Single(IEnumerable<JsonElement> messages, string step) => messages.Single(m => Step(m) == step);

    private static string? Text(JsonElement message, string property) =>
        message.GetProperty(property).ValueKind == JsonValueKind.Null ? null : message.GetProperty(property).ToString();

    [Test]
    public async Task A_confirmed_orders_conversation_is_each_step_with_its_cause_and_the_sagas_state_after_each()
    {
        var order = await PlaceOrder("tok_ok");
        await WaitForState(order, "Confirmed");

        // The deadline (10 s in the tests) fires after the confirmation and changes nothing: a handled timeout.
        var messages = await MessagesOf(order.Id, ConfirmedOrdersSteps.Length);
        var request = Single(messages, $"PlaceOrder@{SystemTopology.Orders.Name}");
        var placedAtPayments = Single(messages, $"OrderPlaced@{SystemTopology.Payments.Name}");
        var placedAtNotifications = Single(messages, $"OrderPlaced@{SystemTopology.Notifications.Name}");
        var placedAtInventory = Single(messages, $"OrderPlaced@{SystemTopology.Inventory.Name}");
        var authorized = Single(messages, $"PaymentAuthorized@{SystemTopology.Orders.Name}");
        var reserved = Single(messages, $"StockReserved@{SystemTopology.Orders.Name}");
        var confirmed = Single(messages, $"OrderConfirmed@{SystemTopology.Notifications.Name}");
        var deadline = Single(messages, $"PaymentDeadlinePassed@{SystemTopology.Orders.Name}");
        string? Id(JsonElement m) => Text(m, "messageId");

        Assert.Multiple(() =>
        {
            Assert.That(messages.Select(Step), Is.EquivalentTo(ConfirmedOrdersSteps), "one record per message and handling endpoint, nothing else");
            Assert.That(messages.Select(m => Text(m, "outcome")), Is.All.EqualTo("Processed"));
            Assert.That(messages.Select(m => Text(m, "conversationId")), Is.All.EqualTo(order.Id.ToString()), "one conversation per order");
            Assert.That(Text(request, "kind"), Is.EqualTo("http"));
            Assert.That(Text(request, "relatedTo"), Is.Null, "the request starts the conversation");
            Assert.That(new[] { Id(placedAtNotifications), Id(placedAtInventory) }, Is.All.EqualTo(Id(placedAtPayments)), "one OrderPlaced, three subscribers");
            Assert.That(Text(placedAtPayments, "relatedTo"), Is.EqualTo(Id(request)), "OrderPlaced was sent by the request");
            Assert.That(Text(placedAtPayments, "sendingEndpoint"), Is.EqualTo(SystemTopology.Orders.Name));
            Assert.That(Text(placedAtPayments, "kind"), Is.EqualTo("event"));
            Assert.That(Text(authorized, "relatedTo"), Is.EqualTo(Id(placedAtPayments)), "Payments authorized because of OrderPlaced");
            Assert.That(Text(authorized, "sendingEndpoint"), Is.EqualTo(SystemTopology.Payments.Name));
            Assert.That(Text(reserved, "relatedTo"), Is.EqualTo(Id(placedAtPayments)), "Inventory reserved because of OrderPlaced");
            Assert.That(Text(reserved, "sendingEndpoint"), Is.EqualTo(SystemTopology.Inventory.Name));
            Assert.That(Text(confirmed, "relatedTo"), Is.AnyOf(Id(authorized), Id(reserved)), "the saga confirmed on the later of PaymentAuthorized and StockReserved");
            Assert.That(Text(deadline, "kind"), Is.EqualTo("timeout"));
            Assert.That(Text(deadline, "relatedTo"), Is.EqualTo(Id(request)), "the request scheduled the deadline");
            Assert.That(messages.Select(m => m.GetProperty("processingMilliseconds").GetDouble()), Is.All.GreaterThanOrEqualTo(0));
            Assert.That(messages.Select(m => m.GetProperty("criticalMilliseconds").GetDouble()), Is.All.GreaterThanOrEqualTo(0));
        });

        var saga = await _serviceControl.Http.GetFromJsonAsync<JsonElement>($"/api/sagas/{order.Id}");
        var steps = saga.GetProperty("steps").EnumerateArray().ToList();
        string? Changed(JsonElement step, string path) =>
            step.GetProperty("changes").EnumerateArray().Where(c => c.GetProperty("path").GetString() == path).Select(c => c.GetProperty("after").GetString()).SingleOrDefault();

        // The payment's and the stock's answers in the order they came; the later one confirmed the order.
        var confirming = steps.Single(s => Text(s.GetProperty("message"), "messageId") == Text(confirmed, "relatedTo"));
        var answers = steps.Skip(1).Take(2).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(steps.Select(s => Step(s.GetProperty("message"))).ToList() is [var first, _, _, var last] && first == $"PlaceOrder@{SystemTopology.Orders.Name}" && last == $"PaymentDeadlinePassed@{SystemTopology.Orders.Name}",
                Is.True, "the request first, the deadline last: " + string.Join(", ", steps.Select(s => Step(s.GetProperty("message")))));
            Assert.That(answers.Select(s => Step(s.GetProperty("message"))), Is.EquivalentTo(new[] { $"PaymentAuthorized@{SystemTopology.Orders.Name}", $"StockReserved@{SystemTopology.Orders.Name}" }));
            Assert.That(steps.Select(s => s.GetProperty("change").GetString()), Is.EqualTo(new[] { "created", "updated", "updated", "updated" }));
            Assert.That(Changed(steps[0], "status"), Is.EqualTo("\"Placed\""), "created Placed");
            Assert.That(confirming, Is.EqualTo(answers[1]), "the later answer confirmed it");
            Assert.That(Changed(answers[1], "status"), Is.EqualTo("\"Confirmed\""));
            Assert.That(Changed(answers[0], "status"), Is.Null, "the first answer alone confirmed nothing");
            Assert.That(steps[3].GetProperty("changes").GetArrayLength(), Is.Zero, "the deadline passed a confirmed order by");
            Assert.That(steps[0].GetProperty("sent").EnumerateArray().Select(s => (s.GetProperty("message").GetProperty("shortType").GetString(), s.GetProperty("message").GetProperty("intent").GetString(), s.GetProperty("handled").GetBoolean())),
                Is.EquivalentTo(new[] { ("OrderPlaced", "publish", true), ("PaymentDeadlinePassed", "scheduled", true) }));
            Assert.That(steps[0].GetProperty("sent").EnumerateArray().Single(s => s.GetProperty("message").GetProperty("intent").GetString() == "scheduled")
                .GetProperty("message").GetProperty("dueAt").ValueKind, Is.EqualTo(JsonValueKind.String), "the timeout's due time");
        });
    }

    [Test]
    public async Task A_failed_message_sits_in_its_orders_conversation_as_failed()
    {
        var order = await PlaceOrder("tok_down");
        var failed = await _serviceControl.WaitForOrderPlacedAsync(order.Id, "tok_down's OrderPlaced in ServiceControl");

        var messages = await MessagesOf(order.Id, 3);
        var atPayments = Single(messages, $"OrderPlaced@{SystemTopology.Payments.Name}");
        Assert.Multiple(() =>
        {
            Assert.That(Text(atPayments, "outcome"), Is.EqualTo("Failed"));
            Assert.That(Text(atPayments, "failedMessageId"), Is.EqualTo(ServiceControlClient.IdOf(failed).ToString()), "linked to its failure");
            Assert.That(Text(atPayments, "relatedTo"), Is.EqualTo(Text(Single(messages, $"PlaceOrder@{SystemTopology.Orders.Name}"), "messageId")));
            Assert.That(Text(Single(messages, $"OrderPlaced@{SystemTopology.Notifications.Name}"), "outcome"), Is.EqualTo("Processed"), "the other subscriber handled it");
        });
    }

    [Test]
    public async Task Search_finds_every_message_of_an_order_by_its_id_and_a_message_by_its_type()
    {
        var order = await PlaceOrder("tok_ok");
        await WaitForState(order, "Confirmed");
        await MessagesOf(order.Id, 5);

        var byId = await _serviceControl.Http.GetFromJsonAsync<JsonElement>($"/api/messages?q={order.Id}&pageSize=100");
        var byType = await _serviceControl.Http.GetFromJsonAsync<JsonElement>($"/api/messages?q={Uri.EscapeDataString($"OrderConfirmed {order.Id}")}");
        var sorted = await _serviceControl.Http.GetFromJsonAsync<JsonElement>($"/api/messages?q={order.Id}&sort=processingTime&direction=desc");
        var badSort = await _serviceControl.Http.GetAsync("/api/messages?sort=size");

        var times = sorted.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("processingMilliseconds").GetDouble()).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(byId.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("conversationId").GetString()), Is.All.EqualTo(order.Id.ToString()));
            Assert.That(byId.GetProperty("total").GetInt32(), Is.GreaterThanOrEqualTo(5));
            Assert.That(byType.GetProperty("items").EnumerateArray().Select(Step), Is.EquivalentTo(new[] { $"OrderConfirmed@{SystemTopology.Notifications.Name}", $"OrderConfirmed@{SystemTopology.Inventory.Name}" }));
            Assert.That(times, Is.Ordered.Descending);
            Assert.That(badSort.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        });
    }

    [Test]
    public async Task A_copy_is_believed_only_as_its_broker_users_and_a_malformed_one_is_refused_without_wedging_the_queue()
    {
        var conversation = Guid.NewGuid().ToString();
        var claimed = Guid.NewGuid().ToString();
        await using (var notifications = await Broker.ConnectAsAsync(SystemTopology.Notifications))
        {
            BasicProperties Copy(string? messageId) => new()
            {
                MessageId = Guid.NewGuid().ToString(),
                Headers = new Dictionary<string, object?>
                {
                    [Conveyor.Hosting.AuditHeaders.MessageId] = messageId,
                    [Conveyor.Hosting.AuditHeaders.MessageType] = "Conveyor.Messages.PaymentAuthorized",
                    [Conveyor.Hosting.AuditHeaders.ConversationId] = conversation,
                    // Claims to be Payments' handling: the broker says it is Notifications'.
                    [Conveyor.Hosting.AuditHeaders.ProcessingEndpoint] = SystemTopology.Payments.Name,
                    [Conveyor.Hosting.AuditHeaders.OriginalHeaders] = "not json",
                },
            };
            await notifications.PublishAsync(SystemTopology.AuditQueue, Copy(messageId: null), "{}"u8.ToArray());
            await notifications.PublishAsync(SystemTopology.AuditQueue, Copy(claimed), "\u0000 not json either"u8.ToArray());
        }

        var stored = (await TestEnvironment.Eventually(() => ConversationAsync(conversation), c => c is not null, "the copy with a message id in the store"))!.Value
            .GetProperty("messages").EnumerateArray().ToList();
        Assert.Multiple(async () =>
        {
            Assert.That(stored.Select(m => (Text(m, "messageId"), Text(m, "processingEndpoint"))), Is.EqualTo(new[] { (claimed, SystemTopology.Notifications.Name) }));
            Assert.That(await TestEnvironment.Eventually(() => _broker.CountAsync(SystemTopology.AuditQueue), n => n == 0, "audit to drain"), Is.Zero, "the refused copy was taken off the queue");
        });
    }

    [Test]
    public async Task With_ServiceControl_stopped_for_a_minute_during_a_burst_every_audited_message_arrives_once()
    {
        await System.StopAsync(SystemTopology.ServiceControl.Name);
        var stoppedAt = DateTimeOffset.UtcNow;
        var orders = new List<Placed>();
        try
        {
            for (var i = 0; i < 20; i++) orders.Add(await PlaceOrder("tok_ok"));
            foreach (var order in orders) await WaitForState(order, "Confirmed");
            var waiting = await TestEnvironment.Eventually(() => _broker.CountAsync(SystemTopology.AuditQueue), n => n >= orders.Count * 5, "the audit copies to wait in the queue");
            TestContext.Progress.WriteLine($"{waiting} audit copies waiting while ServiceControl is down");
            var minute = stoppedAt + TimeSpan.FromMinutes(1) - DateTimeOffset.UtcNow;
            if (minute > TimeSpan.Zero) await Task.Delay(minute);
        }
        finally
        {
            await System.StartAgainAsync(SystemTopology.ServiceControl.Name);
        }

        var ids = orders.Select(o => o.Id.ToString()).ToArray();
        async Task<Dictionary<string, long>> Counts()
        {
            await using var connection = new Npgsql.NpgsqlConnection(RunningSystem.ServiceControlDatabase);
            await connection.OpenAsync();
            await using var command = new Npgsql.NpgsqlCommand("select conversation_id, count(*) from processed_messages where conversation_id = any(@ids) group by conversation_id", connection);
            command.Parameters.AddWithValue("ids", ids);
            var counts = new Dictionary<string, long>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync()) counts[reader.GetString(0)] = reader.GetInt64(1);
            return counts;
        }

        var counts = await TestEnvironment.Eventually(Counts, c => ids.All(id => c.GetValueOrDefault(id) >= ConfirmedOrdersSteps.Length),
            "every order's audited messages, deadline included, in the store", TimeSpan.FromSeconds(90));
        Assert.Multiple(async () =>
        {
            Assert.That(ids.Select(id => counts[id]), Is.All.EqualTo(ConfirmedOrdersSteps.Length), "each message of each order once");
            Assert.That(await _broker.CountAsync(SystemTopology.AuditQueue), Is.Zero, "the queue drained");
        });
        foreach (var order in orders.Take(3))
        {
            Assert.That((await MessagesOf(order.Id, ConfirmedOrdersSteps.Length)).Select(Step), Is.EquivalentTo(ConfirmedOrdersSteps));
        }
    }
}
