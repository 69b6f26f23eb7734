using System.Security.Claims;
using Conveyor.Hosting;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Conveyor.ServiceControl.Operators;

/// <summary>
/// Who may use ServiceControl. The REST API under <c>/api</c> takes bearer tokens, like every Conveyor API;
/// Pulse signs operators in with the authorization code flow (PKCE) at the same OpenID Connect provider and
/// keeps them in a cookie. Reading needs <c>support</c> or <c>ops</c>, every action <c>ops</c>.
/// </summary>
public static class PulseSignIn
{
    public const string CookieScheme = "pulse-session";
    public const string OidcScheme = "pulse-oidc";
    private const string ApiOrPulse = "api-or-pulse";

    public static void AddPulseSignIn(this WebApplicationBuilder builder)
    {
        var authentication = builder.Configuration.GetSection("Authentication");
        var pulse = builder.Configuration.GetSection("Pulse");

        builder.Services.AddAuthentication(options =>
            {
                options.DefaultScheme = ApiOrPulse;
                options.DefaultChallengeScheme = ApiOrPulse;
                options.DefaultForbidScheme = ApiOrPulse;
            })
            // A browser never gets at the API with its cookie (so the API needs no CSRF defence), and a
            // script with a token never gets a login page instead of a 401.
            .AddPolicyScheme(ApiOrPulse, "Bearer tokens on /api, Pulse's session elsewhere", policy =>
                policy.ForwardDefaultSelector = context => context.Request.Path.StartsWithSegments("/api") ? JwtBearerDefaults.AuthenticationScheme : CookieScheme)
            .AddCookie(CookieScheme, cookie =>
            {
                // Not ASP.NET Core's default name: cookies are shared by every port of a host name.
                cookie.Cookie.Name = "conveyor-pulse";
                cookie.Cookie.SameSite = SameSiteMode.Lax;
                // An absolute lifetime: Pulse refreshes itself every few seconds, and a sliding session would
                // renew on every refresh and never end. Once it ends the operator signs in at the provider again,
                // which is where a disabled user or a removed role takes effect.
                cookie.ExpireTimeSpan = pulse.GetValue("SessionLifetime", TimeSpan.FromHours(8));
                cookie.SlidingExpiration = false;
                cookie.AccessDeniedPath = "/access-denied";
                cookie.ForwardChallenge = OidcScheme;
            })
            .AddOpenIdConnect(OidcScheme, oidc =>
            {
                oidc.Authority = authentication["Authority"];
                oidc.RequireHttpsMetadata = authentication.GetValue("RequireHttpsMetadata", true);
                oidc.ClientId = pulse["ClientId"] ?? "pulse";
                oidc.ClientSecret = pulse["ClientSecret"];
                oidc.ResponseType = "code";
                oidc.UsePkce = true;
                // The code comes back in the query of a top-level GET, so the correlation and nonce cookies can
                // be SameSite=Lax and need no Secure flag on plain HTTP in development.
                oidc.ResponseMode = "query";
                oidc.CorrelationCookie.SameSite = oidc.NonceCookie.SameSite = SameSiteMode.Lax;
                oidc.CorrelationCookie.SecurePolicy = oidc.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                oidc.SignInScheme = CookieScheme;
                // The ID token is kept for the end-session request: Keycloak wants it as id_token_hint.
                oidc.SaveTokens = true;
                oidc.MapInboundClaims = false;
                oidc.TokenValidationParameters.NameClaimType = "preferred_username";
                oidc.TokenValidationParameters.RoleClaimType = "roles";
                oidc.Events = new OpenIdConnectEvents { OnTokenValidated = AddRolesFromAccessToken };
            });
    }

    /// <summary>
    /// The realm puts roles into the access token only (Keycloak's default), so they are read from there. That
    /// token came straight from the provider's token endpoint, over the back channel and authenticated by the
    /// client secret, so it is read, not validated again (OpenID Connect Core 3.1.3.7/3.1.3.8).
    /// </summary>
    private static Task AddRolesFromAccessToken(Microsoft.AspNetCore.Authentication.OpenIdConnect.TokenValidatedContext context)
    {
        if (context.Principal?.Identity is not ClaimsIdentity identity || context.TokenEndpointResponse?.AccessToken is not { } accessToken) return Task.CompletedTask;
        var token = new JsonWebToken(accessToken);
        foreach (var claim in token.Claims.Where(c => c.Type is "roles" or "realm_access"))
        {
            identity.AddClaim(new Claim(claim.Type, claim.Value, claim.ValueType));
        }

        Authentication.MapRealmRoles(identity);
        return Task.CompletedTask;
    }
}
