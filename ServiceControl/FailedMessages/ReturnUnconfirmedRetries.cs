using Conveyor.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Conveyor.ServiceControl.FailedMessages;

/// <summary>
/// A retry is resolved when the endpoint confirms it handled the message (<c>RetrySucceeded</c>). One never
/// confirmed — the message or its confirmation lost, the endpoint gone — goes back to the list as Unresolved after
/// <see cref="ServiceControlOptions.RetryConfirmationTimeout"/>, with the reason, instead of waiting for ever.
/// A confirmation that still arrives later resolves it as usual.
/// </summary>
internal sealed class ReturnUnconfirmedRetries(ServiceControlOptions options, IServiceScopeFactory scopes, TimeProvider clock, ILogger<ReturnUnconfirmedRetries> logger)
    : PeriodicWork(clock, logger)
{
    protected override TimeSpan Interval => options.RetryConfirmationCheckInterval;

    protected override string FailureMessage => "Looking for unconfirmed retries failed";

    protected override async Task RunOnceAsync(CancellationToken cancellation)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServiceControlDb>();
        var now = Clock.GetUtcNow();
        var issuedBefore = now - options.RetryConfirmationTimeout;
        var note = $"The retry was not confirmed by the endpoint within {options.RetryConfirmationTimeout}: it is back in the list (retry it again, or look at the endpoint).";
        var returned = await db.FailedMessages
            .Where(m => m.Status == FailedMessageStatus.RetryIssued && m.StatusChangedAt < issuedBefore)
            .ExecuteUpdateAsync(set => set
                .SetProperty(m => m.Status, FailedMessageStatus.Unresolved)
                .SetProperty(m => m.StatusChangedAt, now)
                .SetProperty(m => m.StatusNote, note), cancellation);
        if (returned > 0) Logger.LogWarning("{Count} retries issued before {Before:O} were never confirmed: back to Unresolved", returned, issuedBefore);
    }
}
