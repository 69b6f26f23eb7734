using Conveyor.ServiceControl.FailedMessages;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Conveyor.ServiceControl.Pages;

/// <summary>Send the retries of one queue's failed messages to another queue.</summary>
public sealed class RedirectsModel(ServiceControlDb db, RetryRedirects redirects, TimeProvider clock) : PulsePage(clock)
{
    public IReadOnlyList<RetryRedirect> Redirects { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellation) =>
        Redirects = await db.RetryRedirects.AsNoTracking().OrderBy(r => r.FromQueue).ToListAsync(cancellation);

    public async Task<IActionResult> OnPostAddAsync(string? fromQueue, string? toQueue, CancellationToken cancellation) =>
        AfterAction((await redirects.SetAsync(fromQueue, toQueue, cancellation)).Outcome);

    public async Task<IActionResult> OnPostRemoveAsync(string fromQueue, CancellationToken cancellation) =>
        AfterAction(await redirects.RemoveAsync(fromQueue, cancellation));
}
