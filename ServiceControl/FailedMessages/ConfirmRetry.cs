using Conveyor.Hosting;
using Conveyor.Hosting.ServiceControl;
using Conveyor.Topology;
using Wolverine;

namespace Conveyor.ServiceControl.FailedMessages;

/// <summary>
/// An endpoint handled a message ServiceControl retried: the failed message is resolved — when the confirmation
/// comes from the endpoint owning the queue the retry went to; another endpoint's user cannot resolve a failure
/// silently.
/// </summary>
public static class RetrySucceededHandler
{
    public static async Task Handle(RetrySucceeded confirmation, Envelope envelope, ServiceControlDb db, ILogger<RetrySucceeded> logger)
    {
        var message = await db.FailedMessages.FindAsync(confirmation.FailedMessageId);
        if (message is null) return; // purged meanwhile: nothing left to resolve

        // The queue the retry went to: the message's own, or where a redirect sends that queue's retries.
        var sender = BrokerIdentity.SenderOf(envelope);
        var redirect = await db.RetryRedirects.FindAsync(message.Queue ?? "");
        var queues = new[] { message.Queue, redirect?.ToQueue }.OfType<string>().ToList();
        if (!queues.Any(queue => SystemTopology.OwnerOfQueue(queue)?.BrokerUser == sender))
        {
            throw new UntrustedSenderException(
                $"RetrySucceeded for failed message {message.Id} (retried to queue '{string.Join("' or '", queues)}') was published by broker user '{sender ?? "(none)"}', not by the endpoint owning that queue. It resolved nothing.");
        }

        if (message.RetrySucceeded(confirmation.HandledAt))
        {
            logger.LogInformation("Failed message {MessageId} resolved: {Endpoint} handled its retry", message.Id, confirmation.Endpoint);
        }
    }
}
