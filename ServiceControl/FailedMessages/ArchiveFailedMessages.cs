using Conveyor.ServiceControl.Operators;
using Microsoft.EntityFrameworkCore;

namespace Conveyor.ServiceControl.FailedMessages;

/// <summary>Archive (put aside, not retried) and unarchive (back into the list): one, selected or a group.</summary>
public sealed class ArchiveFailedMessages(ServiceControlDb db, AuditLog audit, TimeProvider clock)
{
    public Task<ActionOutcome> ArchiveAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellation) =>
        ChangeAsync(ids, m => m.CanArchive, m => m.Archive(clock.GetUtcNow()), AuditAction.Archive, "archived", "only unresolved messages can be archived", cancellation);

    public Task<ActionOutcome> UnarchiveAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellation) =>
        ChangeAsync(ids, m => m.CanUnarchive, m => m.Unarchive(clock.GetUtcNow()), AuditAction.Unarchive, "unarchived", "only archived messages can be unarchived", cancellation);

    public Task<ActionOutcome> ArchiveGroupAsync(string groupId, CancellationToken cancellation) =>
        ChangeGroupAsync(groupId, FailedMessageStatus.Unresolved, FailedMessageStatus.Archived, AuditAction.Archive, "archived", cancellation);

    public Task<ActionOutcome> UnarchiveGroupAsync(string groupId, CancellationToken cancellation) =>
        ChangeGroupAsync(groupId, FailedMessageStatus.Archived, FailedMessageStatus.Unresolved, AuditAction.Unarchive, "unarchived", cancellation);

    private async Task<ActionOutcome> ChangeAsync(IReadOnlyCollection<Guid> ids, Func<FailedMessage, bool> allowed, Action<FailedMessage> change, AuditAction action, string done, string rule, CancellationToken cancellation)
    {
        if (ids.Count == 0) return ActionOutcome.Invalid("Select at least one message.");
        var messages = await db.FailedMessages.Where(m => ids.Contains(m.Id)).ToListAsync(cancellation);
        var missing = ids.Except(messages.Select(m => m.Id)).ToList();
        if (missing.Count > 0) return ActionOutcome.NotFound($"No failed message {string.Join(", ", missing)}.");
        var wrongState = messages.Where(m => !allowed(m)).ToList();
        if (wrongState.Count > 0) return ActionOutcome.Conflict(string.Join(" ", wrongState.Select(m => $"Message {m.Id} is {m.Status}; {rule}.")));

        foreach (var message in messages) change(message);
        audit.Record(action, $"{Messages(messages.Count)} (selected)", messages.Select(m => m.Id));
        await db.SaveChangesAsync(cancellation);
        return ActionOutcome.Done(messages.Count, $"{Messages(messages.Count)} {done}.");
    }

    /// <summary>
    /// A whole group changes in one UPDATE, its bodies never loaded: only the ids are read, for the audit entry, and
    /// the update touches exactly those (a failure joining the group meanwhile is not changed unseen).
    /// </summary>
    private async Task<ActionOutcome> ChangeGroupAsync(string groupId, FailedMessageStatus from, FailedMessageStatus to, AuditAction action, string done, CancellationToken cancellation)
    {
        var group = await FailureGroups.FindAsync(db, groupId, from, cancellation);
        if (group is null) return ActionOutcome.NotFound($"No group {groupId} of {from.ToString().ToLowerInvariant()} messages.");
        await using var transaction = await db.Database.BeginTransactionAsync(cancellation);
        var ids = await group.Value.Members.Select(m => m.Id).ToListAsync(cancellation);
        var now = clock.GetUtcNow();
        var changed = await db.FailedMessages.Where(m => ids.Contains(m.Id) && m.Status == from)
            .ExecuteUpdateAsync(set => set.SetProperty(m => m.Status, to).SetProperty(m => m.StatusChangedAt, now), cancellation);
        audit.Record(action, $"{Messages(changed)} (group {groupId})", ids);
        await db.SaveChangesAsync(cancellation);
        await transaction.CommitAsync(cancellation);
        return ActionOutcome.Done(changed, $"{Messages(changed)} {done}.");
    }

    private static string Messages(int count) => count == 1 ? "1 message" : $"{count} messages";
}
