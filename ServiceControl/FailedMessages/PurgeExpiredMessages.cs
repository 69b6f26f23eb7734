using Microsoft.EntityFrameworkCore;

namespace Conveyor.ServiceControl.FailedMessages;

/// <summary>
/// Deletes resolved and archived messages (with their failure history) once they are older than the
/// retention period, so the database does not grow without bound. Unresolved messages are never deleted.
/// </summary>
internal sealed class PurgeExpiredMessages(ServiceControlOptions options, IServiceScopeFactory scopes, TimeProvider clock, ILogger<PurgeExpiredMessages> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.RetentionCheckInterval, clock);
        try
        {
            do
            {
                try
                {
                    await PurgeAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(ex, "Purging expired failed messages failed; trying again in {Interval}", options.RetentionCheckInterval);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task PurgeAsync(CancellationToken cancellation)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServiceControlDb>();
        var before = clock.GetUtcNow() - options.RetentionPeriod;
        var purged = await db.FailedMessages
            .Where(m => (m.Status == FailedMessageStatus.Resolved || m.Status == FailedMessageStatus.Archived) && m.StatusChangedAt < before)
            .ExecuteDeleteAsync(cancellation);
        if (purged > 0) logger.LogInformation("Purged {Count} resolved or archived messages older than {Before:O}", purged, before);
    }
}
