using Conveyor.Topology;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Hosting;

namespace Conveyor.Hosting;

/// <summary>
/// Where an endpoint finds everything on a developer's machine, derived from the topology: its port, its database
/// and broker user (created by <c>./build.sh up</c>), the local identity provider. Applied in the Development
/// environment only, and below every other configuration source, so any setting given wins; anywhere else a missing
/// setting stops the endpoint at start-up with a message naming it.
/// </summary>
public static class LocalDevelopment
{
    public const string Realm = "conveyor";

    public static Uri Authority => new($"http://127.0.0.1:{SystemTopology.IdentityProvider.Port}/realms/{Realm}");

    /// <summary>LOCAL DEVELOPMENT DEFAULT ONLY: the realm export's secret of the <c>pulse</c> client (deploy/keycloak/conveyor-realm.json).</summary>
    public const string PulseClientSecret = "pulse-dev-only-secret";

    /// <summary>
    /// Connections one local process may hold. PostgreSQL takes 100 in all, and Npgsql's default is 100 per pool: fifty
    /// concurrent requests to one endpoint took the last free connections from everyone ("53300: remaining connection
    /// slots are reserved"), and a request got a 503. Capped, a request waits for a pooled connection instead.
    /// </summary>
    public const int MaximumPoolSize = 15;

    public static IReadOnlyDictionary<string, string?> DefaultsFor(EndpointTopology endpoint) => new Dictionary<string, string?>
    {
        ["Pulse:ClientSecret"] = endpoint.IsServiceControl ? PulseClientSecret : null,
        ["Urls"] = $"http://127.0.0.1:{endpoint.Port}",
        ["ConnectionStrings:Database"] = $"Host=127.0.0.1;Port=5432;Database={endpoint.Database};Username={endpoint.DatabaseRole};Password={DevelopmentPasswords.Of(endpoint)};Maximum Pool Size={MaximumPoolSize}",
        ["ConnectionStrings:RabbitMq"] = $"amqp://{endpoint.BrokerUser}:{DevelopmentPasswords.Of(endpoint)}@127.0.0.1:5672/{GeneratedFiles.RunVhost}",
        // The local OpenID Connect provider, over plain HTTP; deployments point at Keycloak's realm (https).
        ["Authentication:Authority"] = Authority.ToString(),
        ["Authentication:RequireHttpsMetadata"] = "false",
    };

    internal static void AddLocalDevelopmentDefaults(this WebApplicationBuilder builder, EndpointTopology endpoint)
    {
        if (!builder.Environment.IsDevelopment()) return;
        // First source: every other one (appsettings, environment, command line) overrides it.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = DefaultsFor(endpoint) });
    }
}
