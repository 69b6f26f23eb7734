using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conveyor.Hosting;
using Conveyor.Messages;
using Conveyor.Topology;
using Integration.Tests.Infrastructure;
using Integration.Tests.System;
using RabbitMQ.Client;

namespace Integration.Tests.Contracts;

/// <summary>
/// The contracts between Orders (C#) and Inventory (Node.js), held against the messages the running system really
/// publishes, captured from the broker: Inventory's Pact message pacts (written by its Jest tests) verified by Pact's
/// own verifier against what Orders sent, and what Inventory sends checked against the schemas and the C# records.
/// </summary>
public class OrdersKeepsInventorysPacts : SystemFixture
{
    private static readonly Type[] Captured =
        [typeof(OrderPlaced), typeof(OrderConfirmed), typeof(OrderCancelled), typeof(StockReserved), typeof(StockUnavailable), typeof(StockReleased)];

    private sealed record Message(string Type, string? ContentType, string? UserId, string? CorrelationId, IDictionary<string, object?> Headers, byte[] Body);

    private readonly Dictionary<string, Message> _messages = [];

    /// <summary>
    /// A confirmed order its customer then cancels (OrderPlaced, StockReserved, OrderConfirmed, OrderCancelled,
    /// StockReleased) and one for a sold-out item (StockUnavailable), each message taken off a queue of the test's own
    /// bound to the exchanges, as the operator's user: the first of each type is kept.
    /// </summary>
    [OneTimeSetUp]
    public async Task CaptureOneOfEachMessage()
    {
        await using var broker = await Broker.ConnectAsync();
        var queue = (await broker.Channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true)).QueueName;
        foreach (var type in Captured) await broker.Channel.QueueBindAsync(queue, SystemTopology.ExchangeFor(type), "");

        var confirmed = await PlaceOrder("tok_ok");
        await WaitForState(confirmed, "Confirmed");
        var cancel = await Api.PostAsync($"{confirmed.Location}/cancel", null);
        Assert.That(cancel.IsSuccessStatusCode, Is.True, await cancel.Content.ReadAsStringAsync());
        var soldOut = await OrderRequests.PostAsync(Api, new { currency = "EUR", paymentToken = "tok_ok", lines = new object[] { new { sku = "POSTER-SIGNED", quantity = 1 } } });
        Assert.That(soldOut.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await soldOut.Content.ReadAsStringAsync());
        var ours = new[] { confirmed.Id.ToString(), (await soldOut.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString() };

        await TestEnvironment.Eventually(async () =>
        {
            while (await broker.Channel.BasicGetAsync(queue, autoAck: true) is { } got)
            {
                var type = got.BasicProperties.Type ?? "";
                if (!ours.Contains(got.BasicProperties.CorrelationId)) continue;
                _messages.TryAdd(type, new Message(type, got.BasicProperties.ContentType, got.BasicProperties.UserId, got.BasicProperties.CorrelationId,
                    got.BasicProperties.Headers ?? new Dictionary<string, object?>(), got.Body.ToArray()));
            }

            return _messages.Count;
        }, count => count == Captured.Length, $"one of each of {string.Join(", ", Captured.Select(t => t.Name))} for the test's orders");
    }

    [Test]
    public async Task Inventorys_pacts_hold_for_the_messages_Orders_publishes()
    {
        var root = RunningSystem.FindRepositoryRoot();
        var pact = Path.Combine(root, ".artifacts", "pacts", "inventory-orders.json");
        if (!File.Exists(pact)) Assert.Fail($"{pact} is not there: Inventory's Jest tests write it (npm test --prefix Endpoints/Inventory; ./build.sh test runs them first).");
        var interactions = JsonNode.Parse(await File.ReadAllTextAsync(pact))!["interactions"]!.AsArray().Select(i => i!["description"]!.GetValue<string>()).ToList();

        using var provider = new HttpListener();
        var port = TestEnvironment.FreeTcpPort();
        provider.Prefixes.Add($"http://127.0.0.1:{port}/");
        provider.Start();
        var asked = new List<string>();
        var answering = AnswerWithTheCapturedMessagesAsync(provider, asked);

        var package = Path.Combine(root, Path.GetDirectoryName(SystemTopology.Inventory.Project)!);
        var verify = new ProcessStartInfo("node", ["test/pact/verify.js", $"http://127.0.0.1:{port}", pact])
        {
            WorkingDirectory = package, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var verifier = Process.Start(verify)!;
        var output = verifier.StandardOutput.ReadToEndAsync();
        var errors = verifier.StandardError.ReadToEndAsync();
        await verifier.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        provider.Stop();
        await answering;

        Assert.Multiple(async () =>
        {
            Assert.That(interactions, Is.EquivalentTo(new[] { "an OrderPlaced", "an OrderConfirmed", "an OrderCancelled" }), "the pact Inventory's tests wrote");
            Assert.That(verifier.ExitCode, Is.Zero, $"Pact's verifier:\n{await output}\n{await errors}");
            Assert.That(asked, Is.EquivalentTo(interactions), "the verifier asked for each interaction's message");
        });
    }

    /// <summary>The provider side of a message pact: for each description the verifier POSTs, the message Orders sent.</summary>
    private async Task AnswerWithTheCapturedMessagesAsync(HttpListener provider, List<string> asked)
    {
        while (provider.IsListening)
        {
            HttpListenerContext context;
            try { context = await provider.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }

            var request = await JsonNode.ParseAsync(context.Request.InputStream);
            var description = request?["description"]?.GetValue<string>() ?? "";
            asked.Add(description);
            // "an OrderPlaced" asks for Orders' OrderPlaced.
            var type = $"{typeof(OrderPlaced).Namespace}.{description.Split(' ')[^1]}";
            if (!_messages.TryGetValue(type, out var message))
            {
                context.Response.StatusCode = 404;
                context.Response.Close();
                continue;
            }

            var metadata = JsonSerializer.Serialize(new { type = message.Type, contentType = message.ContentType });
            context.Response.ContentType = message.ContentType;
            context.Response.Headers["Pact-Message-Metadata"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(metadata));
            await context.Response.OutputStream.WriteAsync(message.Body);
            context.Response.Close();
        }
    }

    public static IEnumerable<Type> InventorysMessages => SystemTopology.Inventory.Publishes;

    [TestCaseSource(nameof(InventorysMessages))]
    public void What_Inventory_publishes_matches_its_schema_and_the_CSharp_record(Type type)
    {
        var message = _messages[type.FullName!];
        var body = JsonNode.Parse(message.Body);
        var results = EveryMessageMatchesItsSchema.Evaluate(EveryMessageMatchesItsSchema.SchemaFor(type), body);
        var record = JsonSerializer.Deserialize(message.Body, type, MessageJson.Options);
        string? Header(string name) => message.Headers.TryGetValue(name, out var value) && value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : null;

        Assert.Multiple(() =>
        {
            Assert.That(results.IsValid, Is.True, EveryMessageMatchesItsSchema.Describe(results));
            Assert.That(record, Is.Not.Null.And.InstanceOf(type));
            Assert.That(JsonSerializer.SerializeToNode(record, type, MessageJson.Options)!["orderId"]!.GetValue<string>(), Is.EqualTo(message.CorrelationId), "the order id is the correlation id");
            Assert.That(message.ContentType, Is.EqualTo("application/json"));
            Assert.That(message.UserId, Is.EqualTo(SystemTopology.Inventory.BrokerUser), "published as Inventory's own broker user");
            Assert.That(Header(AuditHeaders.ConversationId), Is.EqualTo(message.CorrelationId), "in the order's conversation");
            Assert.That(Header(AuditHeaders.RelatedTo), Is.Not.Null, "caused by the message Inventory handled");
            Assert.That(Header("parent-id"), Does.Match("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$"), "the W3C trace context, as Wolverine reads it");
        });
    }
}
