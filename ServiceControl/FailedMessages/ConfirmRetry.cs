using Conveyor.Hosting.ServiceControl;

namespace Conveyor.ServiceControl.FailedMessages;

/// <summary>An endpoint handled a message ServiceControl retried: the failed message is resolved.</summary>
public static class RetrySucceededHandler
{
    public static async Task Handle(RetrySucceeded confirmation, ServiceControlDb db, ILogger<RetrySucceeded> logger)
    {
        var message = await db.FailedMessages.FindAsync(confirmation.FailedMessageId);
        if (message is null) return; // purged meanwhile: nothing left to resolve
        if (message.RetrySucceeded(confirmation.HandledAt))
        {
            logger.LogInformation("Failed message {MessageId} resolved: {Endpoint} handled its retry", message.Id, confirmation.Endpoint);
        }
    }
}
