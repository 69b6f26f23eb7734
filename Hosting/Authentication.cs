using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Hosting;

/// <summary>The realm's roles, as ASP.NET Core roles and authorization policies of the same names.</summary>
public static class ConveyorRoles
{
    public const string Customer = "customer";
    public const string Support = "support";
    public const string Ops = "ops";

    /// <summary>Policy: any of the three roles (reading what the caller may see is decided per request).</summary>
    public const string AnyRole = "any-conveyor-role";

    /// <summary>The customer a request acts for: the token's subject, never a value from the body.</summary>
    public static string? CustomerId(this ClaimsPrincipal user) => user.FindFirst("sub")?.Value;

    /// <summary>
    /// The customer's e-mail address, if the provider vouches for it: the token's <c>email</c> claim with
    /// <c>email_verified</c> true (Keycloak's <c>email</c> client scope). Null when the address is missing or unverified.
    /// </summary>
    public static string? VerifiedEmail(this ClaimsPrincipal user) =>
        user.FindFirst("email_verified")?.Value is { } verified && bool.TryParse(verified, out var yes) && yes
            && user.FindFirst("email")?.Value is { Length: > 0 } email ? email : null;

    public static bool SeesEveryOrder(this ClaimsPrincipal user) => user.IsInRole(Support) || user.IsInRole(Ops);
}

/// <summary>
/// Bearer tokens from the OpenID Connect provider at <c>Authentication:Authority</c> (Keycloak in deployment,
/// the local provider in development): signature, issuer, audience (<c>Authentication:Audience</c>,
/// default <c>conveyor-api</c>) and lifetime checked against its discovery document. Without an authority
/// every protected endpoint answers 401: closed, not open, by default.
/// </summary>
public static class Authentication
{
    internal static void AddConveyorAuthentication(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection("Authentication");
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(jwt =>
        {
            jwt.Authority = section["Authority"];
            jwt.Audience = section["Audience"] ?? "conveyor-api";
            jwt.RequireHttpsMetadata = section.GetValue("RequireHttpsMetadata", true);
            // Claims keep their JWT names (sub, roles, preferred_username), as the realm defines them.
            jwt.MapInboundClaims = false;
            jwt.TokenValidationParameters.NameClaimType = "preferred_username";
            jwt.TokenValidationParameters.RoleClaimType = "roles";
            // How far the provider's clock may differ from ours when checking a token's lifetime.
            jwt.TokenValidationParameters.ClockSkew = section.GetValue("ClockSkew", TimeSpan.FromSeconds(30));
            jwt.Events = new JwtBearerEvents
            {
                OnTokenValidated = context =>
                {
                    if (context.Principal?.Identity is ClaimsIdentity identity) MapRealmRoles(identity);
                    return Task.CompletedTask;
                },
            };
        });

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ConveyorRoles.Customer, policy => policy.RequireRole(ConveyorRoles.Customer))
            .AddPolicy(ConveyorRoles.Support, policy => policy.RequireRole(ConveyorRoles.Support, ConveyorRoles.Ops))
            .AddPolicy(ConveyorRoles.Ops, policy => policy.RequireRole(ConveyorRoles.Ops))
            .AddPolicy(ConveyorRoles.AnyRole, policy => policy.RequireRole(ConveyorRoles.Customer, ConveyorRoles.Support, ConveyorRoles.Ops));
    }

    /// <summary>
    /// The one place role claim shapes meet: Keycloak puts realm roles in <c>realm_access.roles</c>, the local
    /// provider (by default) in <c>roles</c>; both become <c>roles</c> claims.
    /// </summary>
    public static void MapRealmRoles(ClaimsIdentity identity)
    {
        foreach (var realmAccess in identity.FindAll("realm_access").ToList())
        {
            try
            {
                using var json = JsonDocument.Parse(realmAccess.Value);
                if (!json.RootElement.TryGetProperty("roles", out var roles) || roles.ValueKind != JsonValueKind.Array) continue;
                foreach (var role in roles.EnumerateArray().Select(r => r.GetString()).OfType<string>())
                {
                    if (!identity.HasClaim("roles", role)) identity.AddClaim(new Claim("roles", role));
                }
            }
            catch (JsonException)
            {
                // Not the shape we know: no roles from it.
            }
        }
    }
}
