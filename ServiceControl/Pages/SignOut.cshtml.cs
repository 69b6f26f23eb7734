using Conveyor.ServiceControl.Operators;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Conveyor.ServiceControl.Pages;

/// <summary>Ends Pulse's session and the provider's, then the provider sends the browser back to Pulse.</summary>
public sealed class SignOutModel : PageModel
{
    public IActionResult OnGet() => LocalRedirect("/");

    public IActionResult OnPost() =>
        SignOut(new AuthenticationProperties { RedirectUri = "/" }, PulseSignIn.CookieScheme, PulseSignIn.OidcScheme);
}
