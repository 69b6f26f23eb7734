using System.Diagnostics;
using System.Text;
using Conveyor.Hosting;
using Conveyor.Hosting.ServiceControl;
using RabbitMQ.Client;

namespace Conveyor.ServiceControl.FailedMessages;

/// <summary>
/// Puts a stored message back on a queue exactly as it was sent (same message id, properties and headers,
/// minus the failure headers), marked with <see cref="ServiceControlContract.RetryHeader"/> so the endpoint
/// confirms success. Each publish is persistent, mandatory and confirmed: it returns only once the broker
/// has the message in the queue.
/// </summary>
/// <remarks>Written on RabbitMQ.Client: a retry re-sends raw bytes of any message type, which Wolverine's typed sending cannot.</remarks>
public sealed class RetrySender(ConnectionSettings connections) : IAsyncDisposable
{
    /// <summary>Headers describing the failure: the endpoint must not see them on the next attempt.</summary>
    private static readonly HashSet<string> FailureHeaderNames =
    [
        "exception-type", "exception-message", "exception-stack", "failed-at", "original-destination",
        "original-partition", "original-offset", "failure-group", "failure-title", "attempts",
        "previous-attempt-activity-id", ServiceControlContract.RetryHeader,
        FailureHeaders.Endpoint, FailureHeaders.Queue, FailureHeaders.MessageType, FailureHeaders.CorrelationId,
        FailureHeaders.FirstFailureAt, FailureHeaders.LastFailureAt, FailureHeaders.Attempts,
    ];

    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConnection? _connection;
    private IChannel? _channel;

    /// <summary>Sends <paramref name="message"/> to <paramref name="queue"/> for another attempt.</summary>
    public Task RetryAsync(FailedMessage message, string queue, CancellationToken cancellation) =>
        PublishAsync(queue, message.Properties, HeadersForRetry(message.Headers, (ServiceControlContract.RetryHeader, message.Id.ToString())), message.Body, cancellation);

    /// <summary>Sends an edited copy of <paramref name="original"/> under a new message id.</summary>
    public Task SendEditedAsync(FailedMessage original, Guid newMessageId, byte[] body, string queue, CancellationToken cancellation) =>
        PublishAsync(queue, original.Properties with { MessageId = newMessageId.ToString() },
            HeadersForRetry(original.Headers, (ServiceControlContract.EditedFromHeader, original.MessageId)), body, cancellation);

    // Wolverine reads the W3C trace context of a message from either.
    private static readonly string[] TraceHeaders = ["traceparent", "parent-id"];

    private static ActivityContext ParentOf(Dictionary<string, object?> headers) =>
        TraceHeaders.Select(h => headers.GetValueOrDefault(h) is byte[] value && ActivityContext.TryParse(Encoding.UTF8.GetString(value), null, out var parent) ? parent : default)
            .FirstOrDefault(parent => parent != default);

    internal static Dictionary<string, object?> HeadersForRetry(IReadOnlyDictionary<string, string?> stored, (string Name, string Value) marker)
    {
        var headers = stored
            .Where(h => !FailureHeaderNames.Contains(h.Key) && !h.Key.StartsWith("x-", StringComparison.Ordinal) && h.Value is not null)
            .ToDictionary(h => h.Key, h => (object?)Encoding.UTF8.GetBytes(h.Value!));
        headers[marker.Name] = Encoding.UTF8.GetBytes(marker.Value);
        return headers;
    }

    private async Task PublishAsync(string queue, MessageProperties stored, Dictionary<string, object?> headers, byte[] body, CancellationToken cancellation)
    {
        // The retry joins the message's own trace (the order's): a span here, and the message carries it
        // as the parent of the next attempt.
        using var span = ConveyorTelemetry.Source.StartActivity($"retry {stored.Type ?? "message"}", ActivityKind.Producer, ParentOf(headers));
        if (span is not null)
        {
            span.SetTag("messaging.destination.name", queue);
            if (stored.CorrelationId is { } orderId) span.SetTag(ConveyorTelemetry.OrderIdAttribute, orderId);
            foreach (var header in TraceHeaders) headers[header] = Encoding.UTF8.GetBytes(span.Id!);
        }

        var properties = new BasicProperties
        {
            MessageId = stored.MessageId,
            CorrelationId = stored.CorrelationId,
            Type = stored.Type,
            ContentType = stored.ContentType,
            ContentEncoding = stored.ContentEncoding,
            ReplyTo = stored.ReplyTo,
            AppId = stored.AppId,
            Priority = stored.Priority,
            Persistent = true,
            Headers = headers,
            // Who sends it now, vouched for by the broker: the endpoint accepts a retry from ServiceControl alone.
            UserId = BrokerIdentity.UserOf(connections.RabbitMqUri),
        };

        await _gate.WaitAsync(cancellation);
        try
        {
            var channel = await ChannelAsync(cancellation);
            try
            {
                // Mandatory: a queue that does not exist returns the message, which fails the publish
                // instead of dropping it silently.
                await channel.BasicPublishAsync("", queue, mandatory: true, properties, body, cancellation);
            }
            catch when (!channel.IsOpen)
            {
                await DisconnectAsync();
                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<IChannel> ChannelAsync(CancellationToken cancellation)
    {
        if (_channel is { IsOpen: true }) return _channel;
        await DisconnectAsync();
        var factory = new ConnectionFactory { Uri = connections.RabbitMqUri, ClientProvidedName = "conveyor-servicecontrol-retries" };
        _connection = await factory.CreateConnectionAsync(cancellation);
        _channel = await _connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellation);
        return _channel;
    }

    private async Task DisconnectAsync()
    {
        if (_channel is not null) await _channel.DisposeAsync();
        if (_connection is not null) await _connection.DisposeAsync();
        _channel = null;
        _connection = null;
    }

    public async ValueTask DisposeAsync()
    {
        await DisconnectAsync();
        _gate.Dispose();
    }
}
