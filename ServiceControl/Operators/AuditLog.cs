using Conveyor.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Conveyor.ServiceControl.Operators;

public enum AuditAction
{
    Retry,
    Archive,
    Unarchive,
    EditAndRetry,
    SetRetryRedirect,
    RemoveRetryRedirect,
    ForgetEndpointInstance,
}

/// <summary>One action an operator took: who, when, what, on which messages.</summary>
public sealed class AuditEntry
{
    public long Id { get; set; }
    public DateTimeOffset At { get; set; }

    /// <summary>The operator's subject at the identity provider (stable), and their user name (readable).</summary>
    public string OperatorId { get; set; } = "";
    public string OperatorName { get; set; } = "";

    public AuditAction Action { get; set; }
    public string Detail { get; set; } = "";
    public Guid[] MessageIds { get; set; } = [];

    /// <summary>For an edit-and-retry: the body the operator sent, exactly, and the queue it went to.</summary>
    public string? SentBody { get; set; }
    public string? SentTo { get; set; }
}

/// <summary>
/// Writes who did what into the same unit of work as the action itself: the entry is added to the
/// action's <see cref="ServiceControlDb"/> and saved with it, so there is no action without its entry.
/// </summary>
public sealed class AuditLog(ServiceControlDb db, IHttpContextAccessor http, TimeProvider clock)
{
    public void Record(AuditAction action, string detail, IEnumerable<Guid>? messageIds = null, string? sentBody = null, string? sentTo = null)
    {
        var user = http.HttpContext?.User;
        db.AuditEntries.Add(new AuditEntry
        {
            At = clock.GetUtcNow(),
            OperatorId = user?.FindFirst("sub")?.Value ?? "(none)",
            OperatorName = user?.Identity?.Name ?? user?.FindFirst("azp")?.Value ?? "(unknown)",
            Action = action,
            Detail = detail,
            MessageIds = messageIds?.ToArray() ?? [],
            SentBody = sentBody,
            SentTo = sentTo,
        });
    }

    public static Task<List<AuditEntry>> RecentAsync(ServiceControlDb db, Guid? messageId, int take, CancellationToken cancellation) =>
        db.AuditEntries.AsNoTracking()
            .Where(e => messageId == null || e.MessageIds.Contains(messageId.Value))
            .OrderByDescending(e => e.Id)
            .Take(take)
            .ToListAsync(cancellation);
}
