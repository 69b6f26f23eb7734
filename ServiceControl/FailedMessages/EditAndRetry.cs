using System.Text;
using System.Text.Json;
using Conveyor.ServiceControl.Operators;

namespace Conveyor.ServiceControl.FailedMessages;

/// <summary>
/// Fix a message's JSON body and send the fixed copy under a new message id (linked to the original by a
/// header); the original is resolved by the edit. For a message that can never succeed as it was sent.
/// </summary>
public sealed class EditAndRetry(ServiceControlDb db, RetrySender sender, AuditLog audit, TimeProvider clock, ILogger<EditAndRetry> logger)
{
    public async Task<(ActionOutcome Outcome, Guid? NewMessageId)> SendAsync(Guid id, string editedBody, CancellationToken cancellation)
    {
        var message = await db.FailedMessages.FindAsync([id], cancellation);
        if (message is null) return (ActionOutcome.NotFound($"No failed message {id}."), null);
        if (!message.CanRetry) return (ActionOutcome.Conflict($"Message {id} is {message.Status}; only unresolved messages can be edited and retried."), null);
        if (message.Queue is null) return (ActionOutcome.Conflict($"Message {id} does not say which queue it failed in; it cannot be retried."), null);
        if (message.Properties.ContentType is { } type && !type.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return (ActionOutcome.Invalid($"Only JSON bodies can be edited; this message is {type}."), null);
        }

        try
        {
            using var _ = JsonDocument.Parse(editedBody);
        }
        catch (JsonException ex)
        {
            return (ActionOutcome.Invalid($"The edited body is not valid JSON: {ex.Message}"), null);
        }

        var redirect = await db.RetryRedirects.FindAsync([message.Queue], cancellation);
        var destination = redirect?.ToQueue ?? message.Queue;
        var newId = Guid.CreateVersion7();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellation);
        message.ReplacedBy(newId, clock.GetUtcNow());
        audit.Record(AuditAction.EditAndRetry, $"sent an edited copy as {newId} to {destination}{(redirect is null ? "" : $" (redirected from {message.Queue})")}", [id],
            sentBody: editedBody, sentTo: destination);
        await db.SaveChangesAsync(cancellation);
        try
        {
            await sender.SendEditedAsync(message, newId, Encoding.UTF8.GetBytes(editedBody), destination, cancellation);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Sending the edited copy of {MessageId} failed", id);
            return (ActionOutcome.BrokerUnavailable($"The broker did not take the edited message ({ex.Message})."), null);
        }

        await transaction.CommitAsync(cancellation);
        logger.LogInformation("Sent an edited copy {NewMessageId} of failed message {MessageId}", newId, id);
        return (ActionOutcome.Done(1, $"Edited message sent as {newId}."), newId);
    }
}
