using System.Security.Claims;
using System.Text.Json;
using Conveyor.IdentityProvider;
using Microsoft.AspNetCore;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

// DEVELOPMENT COMPONENT. A local OpenID Connect provider that mirrors the Keycloak realm in
// deploy/keycloak/conveyor-realm.json, for running and testing Conveyor where Keycloak cannot run. Its keys
// are ephemeral (new on every start) and its users and secrets are the realm file's development defaults.
var builder = WebApplication.CreateBuilder(args);

var realm = Realm.Load(builder.Configuration["Realm:File"] ?? Path.Combine(AppContext.BaseDirectory, "conveyor-realm.json"));
// "flat": roles in a "roles" array claim. "keycloak": Keycloak's shape, {"realm_access": {"roles": [...]}}.
var claimShape = builder.Configuration["Realm:RoleClaimShape"] ?? "flat";
if (claimShape is not ("flat" or "keycloak")) throw new InvalidOperationException("Realm:RoleClaimShape must be 'flat' or 'keycloak'.");
var realmPath = $"realms/{realm.Name}";

builder.Services.AddOpenIddict()
    .AddServer(options =>
    {
        // Keycloak's paths, so a client configured for one works with the other by changing the host.
        options.SetConfigurationEndpointUris($"{realmPath}/.well-known/openid-configuration")
            .SetJsonWebKeySetEndpointUris($"{realmPath}/protocol/openid-connect/certs")
            .SetTokenEndpointUris($"{realmPath}/protocol/openid-connect/token");
        options.AllowClientCredentialsFlow().AllowPasswordFlow();
        // The realm's accessTokenLifespan (300 s).
        options.SetAccessTokenLifetime(TimeSpan.FromSeconds(realm.AccessTokenLifespan));
        options.RegisterScopes(Scopes.OpenId, Scopes.Profile, Scopes.Roles, Realm.ApiAudience);

        // RS256-signed JWT access tokens (not encrypted), keys in memory: this is a development provider.
        options.AddEphemeralSigningKey().AddEphemeralEncryptionKey().DisableAccessTokenEncryption();

        // No database: clients and users come from the realm file, validated by the handlers below.
        options.EnableDegradedMode();
        options.UseAspNetCore().EnableTokenEndpointPassthrough().DisableTransportSecurityRequirement();

        options.AddEventHandler<OpenIddictServerEvents.ValidateTokenRequestContext>(handler => handler.UseInlineHandler(context =>
        {
            var client = realm.Client(context.ClientId);
            if (client is null || client.BearerOnly)
            {
                context.Reject(Errors.InvalidClient, "Unknown client.");
            }
            else if (!client.PublicClient && !client.Authenticates(context.ClientSecret))
            {
                context.Reject(Errors.InvalidClient, "The client secret is wrong.");
            }
            else if (context.Request.IsClientCredentialsGrantType() && !client.ServiceAccountsEnabled
                     || context.Request.IsPasswordGrantType() && !client.DirectAccessGrantsEnabled)
            {
                context.Reject(Errors.UnauthorizedClient, "This client may not use this grant.");
            }

            return default;
        }));
    });

var app = builder.Build();

app.MapGet("/", () => Results.Text($"Conveyor's local OpenID Connect provider (development only). Discovery: /{realmPath}/.well-known/openid-configuration"));
app.MapGet("/health/live", () => Results.Ok(new { status = "Healthy" }));
app.MapGet("/health/ready", () => Results.Ok(new { status = "Healthy" }));

app.MapPost($"/{realmPath}/protocol/openid-connect/token", (HttpContext http) =>
{
    var request = http.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("Not an OpenID Connect request.");
    RealmUser? user;
    if (request.IsClientCredentialsGrantType())
    {
        user = realm.ServiceAccountOf(request.ClientId!);
    }
    else if (request.IsPasswordGrantType())
    {
        user = realm.User(request.Username);
        if (user is null || !user.HasPassword(request.Password)) return Forbid(Errors.InvalidGrant, "Invalid user credentials.");
    }
    else
    {
        return Forbid(Errors.UnsupportedGrantType, "This grant is not supported.");
    }

    if (user is null) return Forbid(Errors.InvalidClient, "The client has no service account.");
    return Results.SignIn(Principal(user, request.ClientId!, request.GetScopes()), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
});

app.Run();

ClaimsPrincipal Principal(RealmUser user, string clientId, IEnumerable<string> scopes)
{
    var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.PreferredUsername, "roles");
    identity.SetClaim(Claims.Subject, user.Subject)
        .SetClaim(Claims.PreferredUsername, user.Username)
        .SetClaim(Claims.Email, user.Email)
        .SetClaim("azp", clientId);
    if (claimShape == "keycloak")
    {
        identity.SetClaim("realm_access", JsonSerializer.SerializeToElement(new { roles = user.Roles }));
    }
    else
    {
        identity.SetClaims("roles", [.. user.Roles]);
    }

    identity.SetAudiences(Realm.ApiAudience);
    identity.SetScopes(scopes);
    identity.SetDestinations(claim => claim.Type is Claims.Subject or Claims.PreferredUsername or Claims.Email
        ? [Destinations.AccessToken, Destinations.IdentityToken]
        : [Destinations.AccessToken]);
    return new ClaimsPrincipal(identity);
}

static IResult Forbid(string error, string description) =>
    Results.Forbid(new Microsoft.AspNetCore.Authentication.AuthenticationProperties(new Dictionary<string, string?>
    {
        [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
        [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
    }), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
