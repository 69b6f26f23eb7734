using Conveyor.ServiceControl.FailedMessages;
using Conveyor.ServiceControl.Operators;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Conveyor.ServiceControl.Pages;

/// <summary>One failed message in full, with what can be done about it.</summary>
public sealed class MessageModel(FailedMessageQueries queries, RetryFailedMessages retry, ArchiveFailedMessages archive, EditAndRetry edit, ServiceControlDb db, TimeProvider clock) : PulsePage(clock)
{
    public FailedMessageDetail Message { get; private set; } = null!;

    /// <summary>Who retried, archived or edited this message, newest first.</summary>
    public IReadOnlyList<AuditEntry> Actions { get; private set; } = [];

    /// <summary>The message's record in its conversation, for the link into its flow.</summary>
    public Guid? ConversationRecord { get; private set; }

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellation)
    {
        var message = await queries.GetAsync(id, cancellation);
        if (message is null) return NotFound();
        Message = message;
        Actions = await AuditLog.RecentAsync(db, id, take: 50, cancellation);
        ConversationRecord = await db.ProcessedMessages.Where(m => m.FailedMessageId == id).Select(m => (Guid?)m.Id).FirstOrDefaultAsync(cancellation);
        return Page();
    }

    public async Task<IActionResult> OnPostRetryAsync(Guid id, CancellationToken cancellation) => AfterAction(await retry.RetryAsync([id], cancellation));

    public async Task<IActionResult> OnPostArchiveAsync(Guid id, CancellationToken cancellation) => AfterAction(await archive.ArchiveAsync([id], cancellation));

    public async Task<IActionResult> OnPostUnarchiveAsync(Guid id, CancellationToken cancellation) => AfterAction(await archive.UnarchiveAsync([id], cancellation));

    public async Task<IActionResult> OnPostEditAsync(Guid id, string? body, CancellationToken cancellation) =>
        AfterAction((await edit.SendAsync(id, body ?? "", cancellation)).Outcome);
}
