using Conveyor.ServiceControl.FailedMessages;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Conveyor.ServiceControl.Pages;

/// <summary>Send the retries of one queue's failed messages to another queue.</summary>
public sealed class RedirectsModel(ServiceControlDb db, TimeProvider clock) : PulsePage(clock)
{
    public IReadOnlyList<RetryRedirect> Redirects { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellation) =>
        Redirects = await db.RetryRedirects.AsNoTracking().OrderBy(r => r.FromQueue).ToListAsync(cancellation);

    public async Task<IActionResult> OnPostAddAsync(string? fromQueue, string? toQueue, CancellationToken cancellation)
    {
        if (RetryRedirect.Validate(fromQueue, toQueue) is { } error) return AfterAction(ActionOutcome.Invalid(error));
        var redirect = await db.RetryRedirects.FindAsync([fromQueue], cancellation);
        if (redirect is null) db.RetryRedirects.Add(redirect = new RetryRedirect { FromQueue = fromQueue!, CreatedAt = Now });
        redirect.ToQueue = toQueue!;
        await db.SaveChangesAsync(cancellation);
        return AfterAction(ActionOutcome.Done(1, $"Retries for {fromQueue} now go to {toQueue}."));
    }

    public async Task<IActionResult> OnPostRemoveAsync(string fromQueue, CancellationToken cancellation)
    {
        var removed = await db.RetryRedirects.Where(r => r.FromQueue == fromQueue).ExecuteDeleteAsync(cancellation);
        return AfterAction(removed > 0 ? ActionOutcome.Done(1, $"Retries for {fromQueue} go to {fromQueue} again.") : ActionOutcome.NotFound($"No redirect from {fromQueue}."));
    }
}
