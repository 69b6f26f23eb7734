using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Conveyor.IdentityProvider;

/// <summary>The parts of a Keycloak realm export this provider honours: clients, users, their realm roles.</summary>
public sealed record Realm(
    [property: JsonPropertyName("realm")] string Name,
    [property: JsonPropertyName("clients")] IReadOnlyList<RealmClient> Clients,
    [property: JsonPropertyName("users")] IReadOnlyList<RealmUser> Users,
    [property: JsonPropertyName("accessTokenLifespan")] int AccessTokenLifespan = 300)
{
    /// <summary>The audience every access token carries (Keycloak: the conveyor-api audience mapper).</summary>
    public const string ApiAudience = "conveyor-api";

    public static Realm Load(string path) =>
        JsonSerializer.Deserialize<Realm>(File.ReadAllText(path)) ?? throw new InvalidOperationException($"{path} is not a realm export.");

    public RealmClient? Client(string? clientId) => Clients.FirstOrDefault(c => c.ClientId == clientId && c.Enabled);

    public RealmUser? User(string? username) => Users.FirstOrDefault(u => u.Username == username && u.Enabled && u.ServiceAccountClientId is null);

    public RealmUser? UserBySubject(string? subject) => Users.FirstOrDefault(u => u.Subject == subject && u.Enabled && u.ServiceAccountClientId is null);

    public RealmUser? ServiceAccountOf(string clientId) => Users.FirstOrDefault(u => u.ServiceAccountClientId == clientId && u.Enabled);
}

/// <summary>
/// The realm file, read again when it changes (its time stamp or length), so users and clients can be changed while
/// the provider runs. A file caught half-written keeps the last good realm until it parses.
/// </summary>
public sealed class RealmFile(string path)
{
    private readonly Lock _lock = new();
    private (DateTime Written, long Length, Realm Realm)? _loaded;

    public Realm Current
    {
        get
        {
            var file = new FileInfo(path);
            lock (_lock)
            {
                if (_loaded is { } loaded && loaded.Written == file.LastWriteTimeUtc && loaded.Length == file.Length) return loaded.Realm;
                try
                {
                    _loaded = (file.LastWriteTimeUtc, file.Length, Realm.Load(path));
                }
                catch (JsonException) when (_loaded is not null)
                {
                    // Half-written: the next request reads it again.
                }

                return _loaded!.Value.Realm;
            }
        }
    }
}

public sealed record RealmClient(
    [property: JsonPropertyName("clientId")] string ClientId,
    [property: JsonPropertyName("secret")] string? Secret,
    [property: JsonPropertyName("publicClient")] bool PublicClient,
    [property: JsonPropertyName("bearerOnly")] bool BearerOnly,
    [property: JsonPropertyName("enabled")] bool Enabled,
    [property: JsonPropertyName("standardFlowEnabled")] bool StandardFlowEnabled,
    [property: JsonPropertyName("directAccessGrantsEnabled")] bool DirectAccessGrantsEnabled,
    [property: JsonPropertyName("serviceAccountsEnabled")] bool ServiceAccountsEnabled,
    [property: JsonPropertyName("redirectUris")] IReadOnlyList<string>? RedirectUris,
    [property: JsonPropertyName("attributes")] IReadOnlyDictionary<string, string>? Attributes,
    [property: JsonPropertyName("defaultClientScopes")] IReadOnlyList<string>? DefaultClientScopes)
{
    /// <summary>Keycloak adds the API audience through the <c>conveyor-api</c> client scope: a client without it gets tokens the APIs refuse.</summary>
    public bool AddsApiAudience => (DefaultClientScopes ?? []).Contains(Realm.ApiAudience);

    /// <summary>Keycloak's <c>email</c> client scope puts <c>email</c> and <c>email_verified</c> into the tokens.</summary>
    public bool AddsEmail => (DefaultClientScopes ?? []).Contains("email");

    /// <summary>Keycloak's per-client override of the realm's access token lifespan (attribute <c>access.token.lifespan</c>, seconds).</summary>
    public TimeSpan? AccessTokenLifespan =>
        int.TryParse(Attributes?.GetValueOrDefault("access.token.lifespan"), out var seconds) && seconds > 0 ? TimeSpan.FromSeconds(seconds) : null;

    /// <summary>The secret matches, compared in constant time; a public client has none to match.</summary>
    public bool Authenticates(string? secret) =>
        !PublicClient && Secret is not null && secret is not null
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(secret));

    /// <summary>Keycloak's redirect URI patterns: exact, or a trailing <c>*</c> as a prefix.</summary>
    public bool AllowsRedirect(string? uri) =>
        uri is not null && (RedirectUris ?? []).Any(p => p.EndsWith('*') ? uri.StartsWith(p[..^1], StringComparison.Ordinal) : uri == p);

    public bool AllowsPostLogoutRedirect(string? uri) =>
        uri is not null && (Attributes?.GetValueOrDefault("post.logout.redirect.uris") ?? "").Split("##").Contains(uri);
}

public sealed record RealmUser(
    [property: JsonPropertyName("id")] string? Id,
    [property: JsonPropertyName("username")] string Username,
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("emailVerified")] bool EmailVerified,
    [property: JsonPropertyName("enabled")] bool Enabled,
    [property: JsonPropertyName("serviceAccountClientId")] string? ServiceAccountClientId,
    [property: JsonPropertyName("credentials")] IReadOnlyList<RealmCredential>? Credentials,
    [property: JsonPropertyName("realmRoles")] IReadOnlyList<string>? RealmRoles)
{
    public string Subject => Id ?? Username;

    public IReadOnlyList<string> Roles => RealmRoles ?? [];

    public bool HasPassword(string? password) =>
        password is not null && (Credentials ?? []).Any(c => c.Type == "password"
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(c.Value), Encoding.UTF8.GetBytes(password)));
}

public sealed record RealmCredential([property: JsonPropertyName("type")] string Type, [property: JsonPropertyName("value")] string Value);
