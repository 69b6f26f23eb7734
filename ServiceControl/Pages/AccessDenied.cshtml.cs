using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Conveyor.ServiceControl.Pages;

/// <summary>Signed in, but without the role the page or action needs.</summary>
public sealed class AccessDeniedModel : PageModel
{
    public void OnGet() => Response.StatusCode = StatusCodes.Status403Forbidden;
}
