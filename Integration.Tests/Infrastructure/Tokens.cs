using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Integration.Tests.System;

namespace Integration.Tests.Infrastructure;

/// <summary>
/// Access tokens from the running system's local OpenID Connect provider, for the realm's development users
/// (deploy/keycloak/conveyor-realm.json): alice and bob are customers with verified e-mail addresses, carol a
/// customer whose address is not verified, sam is support, olivia is ops.
/// </summary>
public static class Tokens
{
    // LOCAL DEVELOPMENT DEFAULTS ONLY, from the realm export.
    private static readonly Dictionary<string, string> Passwords = new()
    {
        ["alice"] = "alice-dev-only",
        ["bob"] = "bob-dev-only",
        ["carol"] = "carol-dev-only",
        ["sam"] = "sam-dev-only",
        ["olivia"] = "olivia-dev-only",
    };

    public static string PasswordOf(string user) => Passwords[user];

    /// <summary>A development user's subject (<c>sub</c>): their stable id in the realm.</summary>
    public static string SubjectOf(string user) => (string)TestRealm.User(user)["id"]!;

    /// <summary>A development user's e-mail address in the realm (verified for alice and bob).</summary>
    public static string EmailOf(string user) => (string)TestRealm.User(user)["email"]!;

    public static Task<string> ForAsync(string user, Uri? authority = null) =>
        RequestAsync(authority ?? RunningSystem.Authority, user, new Dictionary<string, string>
        {
            ["grant_type"] = "password",
            ["client_id"] = "conveyor-cli",
            ["username"] = user,
            ["password"] = Passwords[user],
            ["scope"] = "openid conveyor-api",
        });

    /// <summary>A service client's token (client credentials), as an automation would get one.</summary>
    public static Task<string> ForClientAsync(string clientId, string secret) =>
        RequestAsync(RunningSystem.Authority, clientId, new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = clientId,
            ["client_secret"] = secret,
        });

    private static async Task<string> RequestAsync(Uri authority, string who, Dictionary<string, string> form)
    {
        using var http = new HttpClient();
        var response = await http.PostAsync($"{authority}/protocol/openid-connect/token", new FormUrlEncodedContent(form));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(response.IsSuccessStatusCode, Is.True, $"a token for {who}: {body}");
        return body.GetProperty("access_token").GetString()!;
    }

    /// <summary>When the token stops being valid (its <c>exp</c> claim).</summary>
    public static DateTimeOffset ExpiryOf(string token)
    {
        var payload = token.Split('.')[1].Replace('-', '+').Replace('_', '/');
        var json = JsonDocument.Parse(Convert.FromBase64String(payload.PadRight(payload.Length + (4 - payload.Length % 4) % 4, '=')));
        return DateTimeOffset.FromUnixTimeSeconds(json.RootElement.GetProperty("exp").GetInt64());
    }

    /// <summary>An HTTP client that calls as <paramref name="user"/>, with a fresh token whenever the last one nears expiry.</summary>
    public static HttpClient ClientAs(string user, Uri baseAddress) => new(new BearerTokenHandler(user)) { BaseAddress = baseAddress };

    private sealed class BearerTokenHandler(string user) : DelegatingHandler(new HttpClientHandler())
    {
        private string? _token;
        private DateTime _renewAt;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (_token is null || DateTime.UtcNow >= _renewAt)
            {
                _token = await ForAsync(user);
                _renewAt = DateTime.UtcNow.AddMinutes(4); // the realm's tokens live 5 minutes
            }

            request.Headers.Authorization ??= new AuthenticationHeaderValue("Bearer", _token);
            return await base.SendAsync(request, cancellationToken);
        }
    }
}
