using Conveyor.ServiceControl.Operators;
using Microsoft.EntityFrameworkCore;

namespace Conveyor.ServiceControl.FailedMessages;

/// <summary>
/// Retry one, selected, a group or all: each message goes back to the queue it failed in (or where a
/// redirect points), and waits in <see cref="FailedMessageStatus.RetryIssued"/> for the endpoint's confirmation.
/// </summary>
public sealed class RetryFailedMessages(ServiceControlDb db, RetrySender sender, AuditLog audit, TimeProvider clock, ILogger<RetryFailedMessages> logger)
{
    private const int ChunkSize = 100;

    public async Task<ActionOutcome> RetryAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellation)
    {
        if (ids.Count == 0) return ActionOutcome.Invalid("Select at least one message.");
        var messages = await db.FailedMessages.Where(m => ids.Contains(m.Id)).ToListAsync(cancellation);
        var missing = ids.Except(messages.Select(m => m.Id)).ToList();
        if (missing.Count > 0) return ActionOutcome.NotFound($"No failed message {string.Join(", ", missing)}.");
        var wrongState = messages.Where(m => !m.CanRetry).ToList();
        if (wrongState.Count > 0) return ActionOutcome.Conflict(string.Join(" ", wrongState.Select(m => $"Message {m.Id} is {m.Status}; only unresolved messages can be retried.")));
        var withoutQueue = messages.Where(m => m.Queue is null).ToList();
        if (withoutQueue.Count > 0) return ActionOutcome.Conflict(string.Join(" ", withoutQueue.Select(m => $"Message {m.Id} does not say which queue it failed in; it cannot be retried.")));

        return await RetryChunksAsync(messages.Select(m => m.Id).ToList(), "selected", cancellation);
    }

    public async Task<ActionOutcome> RetryGroupAsync(string groupId, CancellationToken cancellation)
    {
        var group = await FailureGroups.FindAsync(db, groupId, FailedMessageStatus.Unresolved, cancellation);
        if (group is null) return ActionOutcome.NotFound($"No group {groupId} of unresolved messages.");
        return await RetryRetryableAsync(group.Value.Members, $"group {groupId}", cancellation);
    }

    public Task<ActionOutcome> RetryAllAsync(CancellationToken cancellation) =>
        RetryRetryableAsync(db.FailedMessages.Where(m => m.Status == FailedMessageStatus.Unresolved), "all", cancellation);

    /// <summary>A message that does not say which queue it failed in stays in the list; the outcome says how many.</summary>
    private async Task<ActionOutcome> RetryRetryableAsync(IQueryable<FailedMessage> messages, string scope, CancellationToken cancellation)
    {
        var candidates = await messages.Select(m => new { m.Id, m.Queue }).ToListAsync(cancellation);
        var outcome = await RetryChunksAsync(candidates.Where(m => m.Queue != null).Select(m => m.Id).ToList(), scope, cancellation);
        var withoutQueue = candidates.Count(m => m.Queue == null);
        return withoutQueue == 0 || !outcome.Succeeded
            ? outcome
            : outcome with { Detail = $"{outcome.Detail} {withoutQueue} without a known queue stayed in the list." };
    }

    /// <summary>
    /// Per chunk: mark as issued, send (each send confirmed by the broker), then commit. If a send fails the
    /// chunk's marks roll back; messages already sent still resolve when their endpoint confirms them.
    /// </summary>
    private async Task<ActionOutcome> RetryChunksAsync(List<Guid> ids, string scope, CancellationToken cancellation)
    {
        var redirects = await db.RetryRedirects.ToDictionaryAsync(r => r.FromQueue, r => r.ToQueue, cancellation);
        var retried = 0;
        foreach (var chunk in ids.Chunk(ChunkSize))
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellation);
            var messages = await db.FailedMessages.Where(m => chunk.Contains(m.Id) && m.Status == FailedMessageStatus.Unresolved).ToListAsync(cancellation);
            var now = clock.GetUtcNow();
            foreach (var message in messages) message.RetryIssued(now);
            // Where each really goes: its queue, or where a redirect points.
            var destinations = messages.GroupBy(m => (From: m.Queue!, To: redirects.GetValueOrDefault(m.Queue!, m.Queue!)))
                .Select(g => g.Key.From == g.Key.To ? $"{g.Count()} to {g.Key.To}" : $"{g.Count()} to {g.Key.To} (redirected from {g.Key.From})");
            audit.Record(AuditAction.Retry, $"{Messages(messages.Count)} ({scope}): {string.Join(", ", destinations)}", messages.Select(m => m.Id));
            await db.SaveChangesAsync(cancellation);
            try
            {
                foreach (var message in messages)
                {
                    await sender.RetryAsync(message, redirects.GetValueOrDefault(message.Queue!, message.Queue!), cancellation);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Retrying failed messages stopped after {Retried}", retried);
                db.ChangeTracker.Clear();
                return ActionOutcome.BrokerUnavailable($"The broker did not take the retried messages ({ex.Message}); {retried} were retried before.");
            }

            await transaction.CommitAsync(cancellation);
            retried += messages.Count;
            // The chunk's bodies go with it: a retry of everything holds one chunk in memory, not the whole list.
            db.ChangeTracker.Clear();
        }

        logger.LogInformation("Retried {Count} failed messages", retried);
        return ActionOutcome.Done(retried, $"{Messages(retried)} retried.");
    }

    private static string Messages(int count) => count == 1 ? "1 message" : $"{count} messages";
}
