using System.Globalization;
using System.Security.Claims;
using Conveyor.Hosting;
using Duende.IdentityModel.Client;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;
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

    /// <summary>When the session ends, whatever renews its cookie (kept in the session's properties).</summary>
    private const string SessionEnds = "conveyor.session-ends";

    /// <summary>The access token is renewed this long before it expires (or at once, if it lives shorter).</summary>
    private static readonly TimeSpan RefreshAhead = TimeSpan.FromSeconds(30);

    public static void AddPulseSignIn(this WebApplicationBuilder builder)
    {
        var authentication = builder.Configuration.GetSection("Authentication");
        var pulse = builder.Configuration.GetSection("Pulse");
        if (string.IsNullOrEmpty(pulse["ClientSecret"]))
        {
            throw new InvalidOperationException("Pulse:ClientSecret is not set: Pulse signs operators in as the confidential client 'pulse' and needs its secret (environment Pulse__ClientSecret, from a secret store).");
        }

        // Secure outside Development whatever the request says; in Development (plain HTTP on loopback) as the
        // request came, which behind a trusted proxy is its X-Forwarded-Proto.
        var secure = builder.Environment.IsDevelopment() ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
        builder.Services.AddAntiforgery(antiforgery => antiforgery.Cookie.SecurePolicy = secure);

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
                cookie.Cookie.SecurePolicy = secure;
                // An absolute lifetime: Pulse refreshes itself every few seconds, and a sliding session would
                // renew on every refresh and never end. Once it ends the operator signs in at the provider again.
                var lifetime = pulse.GetValue("SessionLifetime", TimeSpan.FromHours(8));
                cookie.ExpireTimeSpan = lifetime;
                cookie.SlidingExpiration = false;
                cookie.Events.OnSigningIn = context =>
                {
                    context.Properties.Items[SessionEnds] = (context.HttpContext.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow() + lifetime).ToString("O", CultureInfo.InvariantCulture);
                    return Task.CompletedTask;
                };
                cookie.Events.OnValidatePrincipal = ValidateSessionAsync;
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
                // be SameSite=Lax (and need no Secure flag on plain HTTP in development).
                oidc.ResponseMode = "query";
                oidc.CorrelationCookie.SameSite = oidc.NonceCookie.SameSite = SameSiteMode.Lax;
                oidc.CorrelationCookie.SecurePolicy = oidc.NonceCookie.SecurePolicy = secure;
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
    /// Every request: a session past its lifetime ends; an access token about to expire is renewed with the refresh
    /// token, and the provider's answer decides: a disabled user (or a revoked session) is refused and signed out
    /// within one access token lifetime (the realm's 5 minutes), and the roles are taken again from the new token, so
    /// a removed <c>ops</c> takes effect as soon. Renewing the cookie does not move the session's end.
    /// </summary>
    private static async Task ValidateSessionAsync(CookieValidatePrincipalContext context)
    {
        var services = context.HttpContext.RequestServices;
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        if (!(context.Properties.Items.TryGetValue(SessionEnds, out var ends) && DateTimeOffset.TryParse(ends, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var endsAt) && now < endsAt))
        {
            await EndSessionAsync(context, "its lifetime is over");
            return;
        }

        var expiresAt = DateTimeOffset.TryParse(context.Properties.GetTokenValue("expires_at"), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at) ? at : DateTimeOffset.MinValue;
        if (expiresAt - now > RefreshAhead) return;
        if (context.Properties.GetTokenValue("refresh_token") is not { } refreshToken)
        {
            await EndSessionAsync(context, "the provider gave no refresh token");
            return;
        }

        var oidc = services.GetRequiredService<IOptionsMonitor<OpenIdConnectOptions>>().Get(OidcScheme);
        var configuration = await oidc.ConfigurationManager!.GetConfigurationAsync(context.HttpContext.RequestAborted);
        var refreshed = await oidc.Backchannel.RequestRefreshTokenAsync(new RefreshTokenRequest
        {
            Address = configuration.TokenEndpoint,
            ClientId = oidc.ClientId!,
            ClientSecret = oidc.ClientSecret,
            RefreshToken = refreshToken,
        }, context.HttpContext.RequestAborted);
        if (refreshed.IsError || refreshed.AccessToken is null)
        {
            await EndSessionAsync(context, $"the provider refused to renew its token ({refreshed.Error}: {refreshed.ErrorDescription})");
            return;
        }

        context.Properties.UpdateTokenValue("access_token", refreshed.AccessToken);
        if (refreshed.RefreshToken is { } rotated) context.Properties.UpdateTokenValue("refresh_token", rotated);
        context.Properties.UpdateTokenValue("expires_at", (now + TimeSpan.FromSeconds(refreshed.ExpiresIn)).ToString("O", CultureInfo.InvariantCulture));

        var identity = new ClaimsIdentity(context.Principal!.Claims.Where(c => c.Type is not ("roles" or "realm_access")), context.Principal.Identity!.AuthenticationType, "preferred_username", "roles");
        AddRoles(identity, refreshed.AccessToken);
        context.ReplacePrincipal(new ClaimsPrincipal(identity));
        context.ShouldRenew = true;
    }

    private static async Task EndSessionAsync(CookieValidatePrincipalContext context, string why)
    {
        context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(PulseSignIn))
            .LogInformation("Pulse session of {Operator} ended: {Why}", context.Principal?.Identity?.Name, why);
        context.RejectPrincipal();
        await context.HttpContext.SignOutAsync(CookieScheme);
    }

    /// <summary>
    /// The realm puts roles into the access token only (Keycloak's default), so they are read from there. That
    /// token came straight from the provider's token endpoint, over the back channel and authenticated by the
    /// client secret, so it is read, not validated again (OpenID Connect Core 3.1.3.7/3.1.3.8).
    /// </summary>
    private static Task AddRolesFromAccessToken(Microsoft.AspNetCore.Authentication.OpenIdConnect.TokenValidatedContext context)
    {
        if (context.Principal?.Identity is ClaimsIdentity identity && context.TokenEndpointResponse?.AccessToken is { } accessToken) AddRoles(identity, accessToken);
        return Task.CompletedTask;
    }

    private static void AddRoles(ClaimsIdentity identity, string accessToken)
    {
        foreach (var claim in new JsonWebToken(accessToken).Claims.Where(c => c.Type is "roles" or "realm_access"))
        {
            identity.AddClaim(new Claim(claim.Type, claim.Value, claim.ValueType));
        }

        Authentication.MapRealmRoles(identity);
    }
}
