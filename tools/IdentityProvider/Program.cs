using System.Security.Claims;
using System.Text.Json;
using Conveyor.IdentityProvider;
using Conveyor.Topology;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

// DEVELOPMENT COMPONENT. A local OpenID Connect provider that mirrors the Keycloak realm in
// deploy/keycloak/conveyor-realm.json, for running and testing Conveyor where Keycloak cannot run. Its keys
// are ephemeral (new on every start) and its users and secrets are the realm file's development defaults.
var builder = WebApplication.CreateBuilder(args);
if (!builder.Environment.IsDevelopment())
{
    // It signs tokens for the realm file's published development passwords: anywhere but a developer's machine
    // (or the tests) that is a way in for anyone. Keycloak is the provider everywhere else.
    Console.Error.WriteLine($"The local identity provider is a development component and runs only with ASPNETCORE_ENVIRONMENT=Development (this is {builder.Environment.EnvironmentName}). Use Keycloak (deploy/keycloak).");
    return 2;
}

// Its address, unless one is given (./build.sh and the tests give theirs): the topology's.
var urls = builder.Configuration["Urls"] ?? $"http://127.0.0.1:{SystemTopology.IdentityProvider.Port}";
builder.WebHost.UseUrls(urls);

// Read again whenever the file changes, as Keycloak's admin console changes a realm while it runs: a user disabled
// there gets no new token (sign-in, password grant, code exchange or refresh) from that moment on.
var realmFile = new RealmFile(builder.Configuration["Realm:File"] ?? Path.Combine(AppContext.BaseDirectory, "conveyor-realm.json"));
// "flat": roles in a "roles" array claim. "keycloak": Keycloak's shape, {"realm_access": {"roles": [...]}}.
var claimShape = builder.Configuration["Realm:RoleClaimShape"] ?? "flat";
if (claimShape is not ("flat" or "keycloak")) throw new InvalidOperationException("Realm:RoleClaimShape must be 'flat' or 'keycloak'.");
var realmPath = $"/realms/{realmFile.Current.Name}";
var loginPath = $"{realmPath}/login-actions/authenticate";
// The issuer is the realm's URL, as Keycloak's is and as OpenID Connect discovery requires (the document at
// {issuer}/.well-known/openid-configuration names that same issuer): any standard client finds it from there.
var listenAt = urls.Split(';')[0].TrimEnd('/');
if (builder.Configuration["Realm:Issuer"] is null && (listenAt.Contains("://+") || listenAt.Contains("://*") || listenAt.Contains("://0.0.0.0") || listenAt.Contains("://[::]")))
{
    Console.Error.WriteLine($"Listening on every address ({listenAt}), the provider cannot tell its own URL: set Realm:Issuer to the realm URL clients use.");
    return 2;
}

var issuer = new Uri(builder.Configuration["Realm:Issuer"] ?? $"{listenAt}{realmPath}");

// The browser session at the provider (Keycloak's SSO session): a cookie set by the login page. Its name
// differs from every Conveyor host's, because cookies are shared across ports on one host name.
const string SessionScheme = "provider-session";
builder.Services.AddAuthentication(SessionScheme).AddCookie(SessionScheme, cookie =>
{
    cookie.Cookie.Name = "conveyor-idp-session";
    cookie.Cookie.SameSite = SameSiteMode.Lax;
    cookie.ExpireTimeSpan = TimeSpan.FromMinutes(30);
    cookie.SlidingExpiration = true;
    cookie.LoginPath = loginPath;
    cookie.ReturnUrlParameter = "returnUrl";
});
builder.Services.AddAntiforgery(antiforgery => antiforgery.Cookie.Name = "conveyor-idp-antiforgery");

builder.Services.AddOpenIddict()
    .AddServer(options =>
    {
        // Keycloak's paths, so a client configured for one works with the other by changing the host.
        options.SetConfigurationEndpointUris($"{realmPath[1..]}/.well-known/openid-configuration")
            .SetJsonWebKeySetEndpointUris($"{realmPath[1..]}/protocol/openid-connect/certs")
            .SetAuthorizationEndpointUris($"{realmPath[1..]}/protocol/openid-connect/auth")
            .SetTokenEndpointUris($"{realmPath[1..]}/protocol/openid-connect/token")
            .SetEndSessionEndpointUris($"{realmPath[1..]}/protocol/openid-connect/logout");
        options.SetIssuer(issuer);
        options.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange()
            .AllowClientCredentialsFlow()
            .AllowPasswordFlow()
            .AllowRefreshTokenFlow();
        // The realm's accessTokenLifespan (300 s); a client's access.token.lifespan attribute overrides it.
        options.SetAccessTokenLifetime(TimeSpan.FromSeconds(realmFile.Current.AccessTokenLifespan));
        options.RegisterScopes(Scopes.OpenId, Scopes.Profile, Scopes.Email, Scopes.Roles, Scopes.OfflineAccess, Realm.ApiAudience);

        // RS256-signed JWT access tokens (not encrypted), keys in memory: this is a development provider.
        options.AddEphemeralSigningKey().AddEphemeralEncryptionKey().DisableAccessTokenEncryption();

        // No database: clients and users come from the realm file, validated by the handlers below. Without
        // token storage an authorization code is not revoked after use; it expires after 5 minutes.
        options.EnableDegradedMode();
        options.UseAspNetCore()
            .EnableAuthorizationEndpointPassthrough()
            .EnableTokenEndpointPassthrough()
            .EnableEndSessionEndpointPassthrough()
            .DisableTransportSecurityRequirement();

        options.AddEventHandler<OpenIddictServerEvents.ValidateAuthorizationRequestContext>(handler => handler.UseInlineHandler(context =>
        {
            var client = realmFile.Current.Client(context.ClientId);
            if (client is null || client.BearerOnly)
            {
                context.Reject(Errors.InvalidClient, "Unknown client.");
            }
            else if (!client.StandardFlowEnabled)
            {
                context.Reject(Errors.UnauthorizedClient, "This client may not use the authorization code flow.");
            }
            else if (!client.AllowsRedirect(context.RedirectUri))
            {
                context.Reject(Errors.InvalidRequest, "The redirect_uri is not registered for this client.");
            }

            return default;
        }));

        options.AddEventHandler<OpenIddictServerEvents.ValidateTokenRequestContext>(handler => handler.UseInlineHandler(context =>
        {
            var client = realmFile.Current.Client(context.ClientId);
            if (client is null || client.BearerOnly)
            {
                context.Reject(Errors.InvalidClient, "Unknown client.");
            }
            else if (!client.PublicClient && !client.Authenticates(context.ClientSecret))
            {
                context.Reject(Errors.InvalidClient, "The client secret is wrong.");
            }
            else if (context.Request.IsClientCredentialsGrantType() && !client.ServiceAccountsEnabled
                     || context.Request.IsPasswordGrantType() && !client.DirectAccessGrantsEnabled
                     || context.Request.IsAuthorizationCodeGrantType() && !client.StandardFlowEnabled
                     || context.Request.IsRefreshTokenGrantType() && !(client.StandardFlowEnabled || client.DirectAccessGrantsEnabled))
            {
                context.Reject(Errors.UnauthorizedClient, "This client may not use this grant.");
            }

            return default;
        }));

        options.AddEventHandler<OpenIddictServerEvents.ValidateEndSessionRequestContext>(handler => handler.UseInlineHandler(context =>
        {
            if (context.PostLogoutRedirectUri is { } uri && !realmFile.Current.Clients.Any(c => c.Enabled && c.AllowsPostLogoutRedirect(uri)))
            {
                context.Reject(Errors.InvalidRequest, "The post_logout_redirect_uri is not registered for any client.");
            }

            return default;
        }));
    });

var app = builder.Build();

app.UseAuthentication();
app.UseAntiforgery();

app.MapGet("/", () => Results.Text($"Conveyor's local OpenID Connect provider (development only). Discovery: {realmPath}/.well-known/openid-configuration"));
app.MapGet("/health/live", () => Results.Ok(new { status = "Healthy" }));
app.MapGet("/health/ready", () => Results.Ok(new { status = "Healthy" }));

// The authorization endpoint: a signed-in browser gets its code at once; otherwise the login page first.
app.MapMethods($"{realmPath}/protocol/openid-connect/auth", [HttpMethods.Get, HttpMethods.Post], async (HttpContext http) =>
{
    var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
    var session = await http.AuthenticateAsync(SessionScheme);
    var user = session.Succeeded ? realmFile.Current.UserBySubject(session.Principal.FindFirst(Claims.Subject)?.Value) : null;
    if (user is null)
    {
        if (request.HasPromptValue(PromptValues.None)) return Forbid(Errors.LoginRequired, "The user is not signed in.");
        // Back here after the login page, with the request's parameters (a POSTed request becomes a GET).
        var returnUrl = http.Request.PathBase + http.Request.Path + QueryString.Create(request.GetParameters().Select(p => KeyValuePair.Create(p.Key, (string?)p.Value.ToString())));
        return Results.Challenge(new AuthenticationProperties { RedirectUri = returnUrl }, [SessionScheme]);
    }

    return Results.SignIn(Principal(user, request.ClientId!, request.GetScopes()), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
});

app.MapGet(loginPath, (HttpContext http, Microsoft.AspNetCore.Antiforgery.IAntiforgery antiforgery, string? returnUrl) =>
    LoginPage(antiforgery.GetAndStoreTokens(http), SafeReturnUrl(returnUrl), username: null, error: null));

app.MapPost(loginPath, async (HttpContext http, Microsoft.AspNetCore.Antiforgery.IAntiforgery antiforgery, [FromForm] string? username, [FromForm] string? password, [FromForm] string? returnUrl) =>
{
    var user = realmFile.Current.User(username);
    if (user is null || !user.HasPassword(password))
    {
        return LoginPage(antiforgery.GetAndStoreTokens(http), SafeReturnUrl(returnUrl), username, "Invalid username or password.");
    }

    var identity = new ClaimsIdentity(SessionScheme, Claims.PreferredUsername, Claims.Role);
    identity.AddClaim(new Claim(Claims.Subject, user.Subject));
    identity.AddClaim(new Claim(Claims.PreferredUsername, user.Username));
    await http.SignInAsync(SessionScheme, new ClaimsPrincipal(identity));
    return Results.LocalRedirect(SafeReturnUrl(returnUrl));
});

app.MapPost($"{realmPath}/protocol/openid-connect/token", async (HttpContext http) =>
{
    var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
    RealmUser? user;
    IEnumerable<string> scopes = request.GetScopes();
    if (request.IsClientCredentialsGrantType())
    {
        user = realmFile.Current.ServiceAccountOf(request.ClientId!);
        if (user is null) return Forbid(Errors.InvalidClient, "The client has no service account.");
    }
    else if (request.IsPasswordGrantType())
    {
        user = realmFile.Current.User(request.Username);
        if (user is null || !user.HasPassword(request.Password)) return Forbid(Errors.InvalidGrant, "Invalid user credentials.");
    }
    else if (request.IsAuthorizationCodeGrantType())
    {
        // OpenIddict has checked the code, its client, redirect URI and PKCE verifier; the user is read again
        // so one disabled since signing in gets no token.
        var code = await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        user = realmFile.Current.UserBySubject(code.Principal?.GetClaim(Claims.Subject));
        if (user is null) return Forbid(Errors.InvalidGrant, "The user no longer exists or is disabled.");
        scopes = code.Principal!.GetScopes();
    }
    else if (request.IsRefreshTokenGrantType())
    {
        // As Keycloak does: a refresh is refused once the user is disabled or gone, and its tokens carry the
        // user's roles as they are now.
        var refresh = await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        user = realmFile.Current.UserBySubject(refresh.Principal?.GetClaim(Claims.Subject));
        if (user is null) return Forbid(Errors.InvalidGrant, "The user no longer exists or is disabled.");
        scopes = refresh.Principal!.GetScopes();
    }
    else
    {
        return Forbid(Errors.UnsupportedGrantType, "This grant is not supported.");
    }

    return Results.SignIn(Principal(user, request.ClientId!, scopes), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
});

// Ends the provider session, then OpenIddict sends the browser to the validated post_logout_redirect_uri.
app.MapMethods($"{realmPath}/protocol/openid-connect/logout", [HttpMethods.Get, HttpMethods.Post], async (HttpContext http) =>
{
    await http.SignOutAsync(SessionScheme);
    return Results.SignOut(new AuthenticationProperties { RedirectUri = "/" }, [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
});

app.Run();
return 0;

ClaimsPrincipal Principal(RealmUser user, string clientId, IEnumerable<string> scopes)
{
    var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.PreferredUsername, "roles");
    var client = realmFile.Current.Client(clientId)!;
    identity.SetClaim(Claims.Subject, user.Subject)
        .SetClaim(Claims.PreferredUsername, user.Username)
        .SetClaim("azp", clientId);
    if (client.AddsEmail && user.Email is not null)
    {
        identity.SetClaim(Claims.Email, user.Email).SetClaim(Claims.EmailVerified, user.EmailVerified);
    }
    if (claimShape == "keycloak")
    {
        identity.SetClaim("realm_access", JsonSerializer.SerializeToElement(new { roles = user.Roles }));
    }
    else
    {
        identity.SetClaims("roles", [.. user.Roles]);
    }

    if (client.AddsApiAudience) identity.SetAudiences(Realm.ApiAudience);
    // Keycloak gives a user's sign-in (code or password grant) a refresh token; a service account gets none.
    identity.SetScopes(user.ServiceAccountClientId is null ? scopes.Append(Scopes.OfflineAccess).Distinct() : scopes);
    var principal = new ClaimsPrincipal(identity);
    if (client.AccessTokenLifespan is { } lifespan) principal.SetAccessTokenLifetime(lifespan);
    // As in Keycloak: who the user is goes into the ID token too, roles only into the access token.
    identity.SetDestinations(claim => claim.Type is Claims.Subject or Claims.PreferredUsername or Claims.Email or Claims.EmailVerified
        ? [Destinations.AccessToken, Destinations.IdentityToken]
        : [Destinations.AccessToken]);
    return principal;
}

// Only paths on this provider, so the login page cannot be used to send a browser elsewhere.
string SafeReturnUrl(string? returnUrl) =>
    returnUrl is not null && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//") && !returnUrl.StartsWith("/\\") ? returnUrl : "/";

static IResult LoginPage(Microsoft.AspNetCore.Antiforgery.AntiforgeryTokenSet tokens, string returnUrl, string? username, string? error)
{
    static string Encode(string? value) => System.Net.WebUtility.HtmlEncode(value ?? "");
    var html = $$"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
          <meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
          <title>Sign in · Conveyor (development)</title>
          <style>
            body { font: 16px/1.5 system-ui, sans-serif; background: #f4f5f7; display: grid; place-items: center; min-height: 100vh; margin: 0; }
            h1 { font-size: 1.4rem; margin-top: 0; }
            form { background: #fff; padding: 2rem; border-radius: 8px; box-shadow: 0 1px 4px #0002; width: 20rem; }
            label { display: block; margin-top: 1rem; } input { width: 100%; padding: .5rem; box-sizing: border-box; }
            button { margin-top: 1.5rem; width: 100%; padding: .6rem; background: #1f6feb; color: #fff; border: 0; border-radius: 4px; font-size: 1rem; }
            .dev { background: #fff3cd; padding: .5rem; font-size: .85rem; } .error { color: #b42318; }
          </style>
        </head>
        <body>
          <form method="post">
            <h1>Sign in to Conveyor</h1>
            <p class="dev">Local development provider. Users and passwords are the development defaults in deploy/keycloak/conveyor-realm.json.</p>
            {{(error is null ? "" : $"<p class=\"error\" role=\"alert\">{Encode(error)}</p>")}}
            <input type="hidden" name="{{Encode(tokens.FormFieldName)}}" value="{{Encode(tokens.RequestToken)}}">
            <input type="hidden" name="returnUrl" value="{{Encode(returnUrl)}}">
            <label for="username">Username</label><input id="username" name="username" autocomplete="username" value="{{Encode(username)}}" required autofocus>
            <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
            <button type="submit">Sign in</button>
          </form>
        </body>
        </html>
        """;
    return Results.Content(html, "text/html; charset=utf-8");
}

static IResult Forbid(string error, string description) =>
    Results.Forbid(new AuthenticationProperties(new Dictionary<string, string?>
    {
        [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
        [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
    }), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
