using Wolverine;

namespace Conveyor.Hosting.ServiceControl;

/// <summary>
/// Wolverine middleware on every handler: when a message ServiceControl retried has been handled
/// successfully, tell ServiceControl, so the failed message is marked resolved only once it really is.
/// The confirmation goes through the outbox with the handler's own work.
/// </summary>
public static class ConfirmRetries
{
    public static ValueTask AfterAsync(Envelope envelope, IMessageContext context, EndpointIdentity endpoint)
    {
        if (envelope.Headers.TryGetValue(ServiceControlContract.RetryHeader, out var value) && Guid.TryParse(value, out var failedMessageId))
        {
            return context.SendAsync(new RetrySucceeded(failedMessageId, endpoint.Name, DateTimeOffset.UtcNow));
        }

        return ValueTask.CompletedTask;
    }
}
