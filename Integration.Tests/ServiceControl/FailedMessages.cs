using System.Text;
using System.Text.Json;
using Conveyor.Hosting;
using Conveyor.Messages;
using Conveyor.Topology;
using Integration.Tests.Infrastructure;
using RabbitMQ.Client;

namespace Integration.Tests.ServiceControl;

/// <summary>Ways to make a message fail for real, or to put a failure straight into <c>error</c> as an endpoint would.</summary>
public static class FailedMessages
{
    /// <summary>
    /// An OrderPlaced that breaks the contract (no lines, negative total), published as Orders publishes it (its
    /// exchange, its broker user): Payments refuses it at once, without retries, every time it is tried; Notifications
    /// only keeps a summary of it.
    /// </summary>
    /// <summary>
    /// The record of <see cref="SendInvalidOrderPlacedAsync"/>'s message failing in Payments. It fails in Inventory too (it
    /// breaks the schema Inventory checks), a record of its own under the same message id.
    /// </summary>
    public static Func<JsonElement, bool> FailedInPayments(string messageId) =>
        m => m.GetProperty("messageId").GetString() == messageId && m.GetProperty("endpoint").GetString() == SystemTopology.Payments.Name;

    public static async Task<(Guid OrderId, string MessageId)> SendInvalidOrderPlacedAsync(Guid? forOrder = null)
    {
        var orderId = forOrder ?? Guid.NewGuid();
        var invalid = new OrderPlaced(orderId, "customer-sc", "sc@example.com", "EUR", [], -1m, "tok_ok", DateTimeOffset.UtcNow);
        var messageId = Guid.NewGuid().ToString();
        await using var orders = await Broker.ConnectAsAsync(SystemTopology.Orders);
        await orders.PublishAsync(SystemTopology.ExchangeFor(typeof(OrderPlaced)), new BasicProperties
        {
            MessageId = messageId, Type = typeof(OrderPlaced).FullName, ContentType = "application/json",
            CorrelationId = orderId.ToString(), Persistent = true,
        }, JsonSerializer.SerializeToUtf8Bytes(invalid, MessageJson.Options));
        return (orderId, messageId);
    }

    /// <summary>
    /// A failure as <paramref name="endpoint"/> puts one into <c>error</c> (Payments' by default): as its broker user,
    /// naming its queue, with the given details.
    /// </summary>
    public static async Task PublishAsync(string messageId, string messageType, string exceptionType, string exceptionMessage, DateTimeOffset failedAt, EndpointTopology? endpoint = null)
    {
        var failing = endpoint ?? SystemTopology.Payments;
        await using var broker = await Broker.ConnectAsAsync(failing);
        await broker.PublishAsync(ConveyorEndpoint.ErrorQueue, Failure(messageId, messageType, exceptionType, exceptionMessage, failing.Queue, failedAt), "{}"u8.ToArray());
    }

    /// <summary>The properties of a failure an endpoint dead-letters (Wolverine's exception headers, Conveyor's failure headers).</summary>
    public static BasicProperties Failure(string messageId, string messageType, string exceptionType, string exceptionMessage, string queue, DateTimeOffset failedAt) => new()
    {
        MessageId = messageId, Type = messageType, ContentType = "application/json", Persistent = true,
        Headers = new Dictionary<string, object?>
        {
            ["exception-type"] = Encoding.UTF8.GetBytes(exceptionType),
            ["exception-message"] = Encoding.UTF8.GetBytes(exceptionMessage),
            ["exception-stack"] = Encoding.UTF8.GetBytes("   at Tests.Fail()"),
            [FailureHeaders.Endpoint] = Encoding.UTF8.GetBytes(queue),
            [FailureHeaders.Queue] = Encoding.UTF8.GetBytes($"rabbitmq://queue/{queue}"),
            [FailureHeaders.LastFailureAt] = Encoding.UTF8.GetBytes(failedAt.ToString("O")),
        },
    };
}
