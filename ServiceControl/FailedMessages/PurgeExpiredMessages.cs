using Conveyor.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Conveyor.ServiceControl.FailedMessages;

/// <summary>
/// Deletes resolved and archived messages (with their failure history) once they are older than the
/// retention period, and processed messages (audit copies) older than theirs, so the database does not grow without bound. Unresolved messages are kept until an operator
/// acts, unless <see cref="ServiceControlOptions.UnresolvedRetentionPeriod"/> is set: then an unresolved message
/// goes that long after its last failure (Pulse shows when), so the personal data it holds is not kept for ever.
/// </summary>
internal sealed class PurgeExpiredMessages(ServiceControlOptions options, IServiceScopeFactory scopes, TimeProvider clock, ILogger<PurgeExpiredMessages> logger)
    : PeriodicWork(clock, logger)
{
    protected override TimeSpan Interval => options.RetentionCheckInterval;

    protected override string FailureMessage => "Purging expired failed messages failed";

    protected override Task RunOnceAsync(CancellationToken cancellation) => PurgeAsync(cancellation);

    private async Task PurgeAsync(CancellationToken cancellation)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServiceControlDb>();
        var before = Clock.GetUtcNow() - options.RetentionPeriod;
        var purged = await db.FailedMessages
            .Where(m => (m.Status == FailedMessageStatus.Resolved || m.Status == FailedMessageStatus.Archived || m.Status == FailedMessageStatus.Rejected) && m.StatusChangedAt < before)
            .ExecuteDeleteAsync(cancellation);
        if (purged > 0) Logger.LogInformation("Purged {Count} resolved, archived or rejected messages older than {Before:O}", purged, before);

        var auditedBefore = Clock.GetUtcNow() - options.AuditRetentionPeriod;
        var audited = await db.ProcessedMessages.Where(m => m.ReceivedAt < auditedBefore).ExecuteDeleteAsync(cancellation);
        if (audited > 0) Logger.LogInformation("Purged {Count} processed messages received before {Before:O}", audited, auditedBefore);

        if (options.UnresolvedRetentionPeriod is not { } keepUnresolved) return;
        var failedBefore = Clock.GetUtcNow() - keepUnresolved;
        var expired = await db.FailedMessages.Where(m => m.Status == FailedMessageStatus.Unresolved && m.LastFailedAt < failedBefore).ExecuteDeleteAsync(cancellation);
        if (expired > 0) Logger.LogWarning("Deleted {Count} unresolved messages whose last failure was before {Before:O} (ServiceControl:UnresolvedRetentionPeriod)", expired, failedBefore);
    }
}
