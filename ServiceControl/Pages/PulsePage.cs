using Conveyor.ServiceControl.FailedMessages;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Conveyor.ServiceControl.Pages;

/// <summary>What every Pulse page shares: the clock, and a notice after an action (post, redirect, get).</summary>
public abstract class PulsePage(TimeProvider clock) : PageModel
{
    public DateTimeOffset Now { get; } = clock.GetUtcNow();

    protected IActionResult AfterAction(ActionOutcome outcome, string? returnUrl = null)
    {
        TempData["Notice"] = outcome.Detail;
        TempData["NoticeKind"] = outcome.Succeeded ? "ok" : "error";
        return returnUrl is not null && Url.IsLocalUrl(returnUrl) ? LocalRedirect(returnUrl) : RedirectToPage();
    }
}
