using Conveyor.Hosting;
using Conveyor.ServiceControl.FailedMessages;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Conveyor.ServiceControl.Pages;

/// <summary>
/// What every Pulse page shares: the clock, a notice after an action (post, redirect, get), and the rule that
/// reading needs support or ops (the folder's policy) while every action, a POST, needs ops.
/// </summary>
public abstract class PulsePage(TimeProvider clock) : PageModel
{
    public DateTimeOffset Now { get; } = clock.GetUtcNow();

    /// <summary>Whether the operator may act; the pages show actions only then.</summary>
    public bool CanAct => User.IsInRole(ConveyorRoles.Ops);

    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        if (!HttpMethods.IsGet(Request.Method) && !HttpMethods.IsHead(Request.Method) && !CanAct)
        {
            context.Result = Forbid();
            return;
        }

        await next();
    }

    protected IActionResult AfterAction(ActionOutcome outcome, string? returnUrl = null)
    {
        TempData["Notice"] = outcome.Detail;
        TempData["NoticeKind"] = outcome.Succeeded ? "ok" : "error";
        return returnUrl is not null && Url.IsLocalUrl(returnUrl) ? LocalRedirect(returnUrl) : RedirectToPage();
    }
}
