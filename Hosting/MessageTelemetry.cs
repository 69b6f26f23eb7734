using System.Diagnostics;
using Conveyor.Hosting.ServiceControl;
using Wolverine;

namespace Conveyor.Hosting;

/// <summary>
/// Wolverine middleware on every handler. The span Wolverine opened for the message gets the endpoint, the
/// order (every message of an order's flow carries the order id as its correlation id) and the outcome; a
/// handled message records its processing time (the handler) and critical time (from send to handled,
/// queueing and retries included) per message type. Wolverine's own timings use units Prometheus cannot name well.
/// </summary>
public static class MessageTelemetry
{
    public readonly record struct HandlingStarted(long Timestamp);

    public static HandlingStarted Before(Envelope envelope, EndpointIdentity endpoint)
    {
        var span = Activity.Current;
        if (span is not null)
        {
            span.SetTag(ConveyorTelemetry.EndpointAttribute, endpoint.Name);
            // ServiceControl's own traffic (heartbeats, retry confirmations) belongs to no order.
            if (envelope.CorrelationId is { } orderId && envelope.Message?.GetType().Namespace != ServiceControlContract.Namespace)
            {
                span.SetTag(ConveyorTelemetry.OrderIdAttribute, orderId);
            }
        }

        return new HandlingStarted(Stopwatch.GetTimestamp());
    }

    public static void After(Envelope envelope, HandlingStarted started)
    {
        Activity.Current?.SetTag(ConveyorTelemetry.OutcomeAttribute, "handled");
        var messageType = new KeyValuePair<string, object?>("message_type", envelope.Message?.GetType().FullName ?? envelope.MessageType);
        ConveyorTelemetry.ProcessingTime.Record(Stopwatch.GetElapsedTime(started.Timestamp).TotalSeconds, messageType);
        if (envelope.SentAt != default)
        {
            ConveyorTelemetry.CriticalTime.Record(Math.Max(0, (DateTimeOffset.UtcNow - envelope.SentAt).TotalSeconds), messageType);
        }
    }
}
