using System.Text;
using System.Text.Json;
using Conveyor.Hosting;
using Conveyor.Messages;
using Integration.Tests.Infrastructure;
using Integration.Tests.System;
using RabbitMQ.Client;

namespace Integration.Tests.ServiceControl;

/// <summary>Ways to make a message fail for real, or to put a failure straight into <c>error</c>.</summary>
public static class FailedMessages
{
    /// <summary>
    /// An OrderPlaced that breaks the contract (no lines, negative total), sent to Payments: it fails at once,
    /// without retries, every time it is tried.
    /// </summary>
    public static async Task<(Guid OrderId, string MessageId)> SendInvalidOrderPlacedAsync(Guid? forOrder = null)
    {
        var orderId = forOrder ?? Guid.NewGuid();
        var invalid = new OrderPlaced(orderId, "customer-sc", "sc@example.com", "EUR", [], -1m, "tok_ok", DateTimeOffset.UtcNow);
        var messageId = Guid.NewGuid().ToString();
        await using var broker = await Broker.ConnectAsync();
        await using var channel = await BrokerChannels.ConfirmingAsync(broker);
        await channel.BasicPublishAsync("", "payments", mandatory: true, new BasicProperties
        {
            MessageId = messageId, Type = typeof(OrderPlaced).FullName, ContentType = "application/json",
            CorrelationId = orderId.ToString(), Persistent = true,
        }, JsonSerializer.SerializeToUtf8Bytes(invalid, MessageJson.Options));
        return (orderId, messageId);
    }

    /// <summary>Publishes a failure into <c>error</c> as an endpoint would, with the given details.</summary>
    public static async Task PublishAsync(string messageId, string messageType, string exceptionType, string exceptionMessage, string endpoint, DateTimeOffset failedAt)
    {
        await using var broker = await Broker.ConnectAsync();
        await using var channel = await BrokerChannels.ConfirmingAsync(broker);
        await channel.BasicPublishAsync("", ConveyorEndpoint.ErrorQueue, mandatory: true, new BasicProperties
        {
            MessageId = messageId, Type = messageType, ContentType = "application/json", Persistent = true,
            Headers = new Dictionary<string, object?>
            {
                ["exception-type"] = Encoding.UTF8.GetBytes(exceptionType),
                ["exception-message"] = Encoding.UTF8.GetBytes(exceptionMessage),
                ["exception-stack"] = Encoding.UTF8.GetBytes("   at Tests.Fail()"),
                [FailureHeaders.Endpoint] = Encoding.UTF8.GetBytes(endpoint),
                [FailureHeaders.Queue] = Encoding.UTF8.GetBytes($"rabbitmq://queue/{endpoint}"),
                [FailureHeaders.LastFailureAt] = Encoding.UTF8.GetBytes(failedAt.ToString("O")),
            },
        }, "{}"u8.ToArray());
    }
}
