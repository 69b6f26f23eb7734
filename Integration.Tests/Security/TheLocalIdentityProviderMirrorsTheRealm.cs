using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conveyor.Topology;
using Integration.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Integration.Tests.Security;

/// <summary>
/// The local OpenID Connect provider reads the Keycloak realm export and issues what Keycloak would: RS256
/// access tokens for the realm's users and service accounts, with the realm's roles and the API audience,
/// verifiable through discovery alone — in the flat "roles" shape and in Keycloak's "realm_access" shape.
/// </summary>
public class TheLocalIdentityProviderMirrorsTheRealm
{
    private static readonly string RealmFile = Path.Combine(System.RunningSystem.FindRepositoryRoot(), "deploy", "keycloak", "conveyor-realm.json");

    private static JsonElement Realm => JsonDocument.Parse(File.ReadAllText(RealmFile)).RootElement;

    private static async Task<(HttpStatusCode Status, JsonElement Body)> RequestTokenAsync(LocalIdentityProvider provider, params (string, string)[] form)
    {
        using var http = new HttpClient();
        var response = await http.PostAsync(provider.TokenEndpoint, new FormUrlEncodedContent(form.Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2))));
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    /// <summary>Validates the token as an API would: keys and issuer from discovery, the API audience.</summary>
    private static async Task<JsonWebToken> ValidateAsync(LocalIdentityProvider provider, string accessToken)
    {
        var discovery = new ConfigurationManager<OpenIdConnectConfiguration>($"{provider.Authority}/.well-known/openid-configuration",
            new OpenIdConnectConfigurationRetriever(), new HttpDocumentRetriever { RequireHttps = false });
        var configuration = await discovery.GetConfigurationAsync(CancellationToken.None);
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(accessToken, new TokenValidationParameters
        {
            ValidIssuer = configuration.Issuer,
            ValidAudience = "conveyor-api",
            IssuerSigningKeys = configuration.SigningKeys,
        });
        Assert.That(result.IsValid, Is.True, result.Exception?.Message);
        return (JsonWebToken)result.SecurityToken;
    }

    private static string[] RolesIn(JsonWebToken token, string shape) => shape == "keycloak"
        ? JsonDocument.Parse(token.GetClaim("realm_access").Value).RootElement.GetProperty("roles").EnumerateArray().Select(r => r.GetString()!).ToArray()
        : token.Claims.Where(c => c.Type == "roles").Select(c => c.Value).ToArray();

    // Beside the test system's provider: its test port, and the next one.
    [TestCase("flat", 0)]
    [TestCase("keycloak", 1)]
    public async Task Every_realm_user_and_service_account_gets_a_verifiable_token_with_its_realm_roles(string shape, int portOffset)
    {
        await using var provider = await LocalIdentityProvider.StartAsync(SystemTopology.IdentityProvider.TestPort + portOffset, shape);
        var users = Realm.GetProperty("users").EnumerateArray().ToList();

        Assert.Multiple(async () =>
        {
            foreach (var user in users)
            {
                var expectedRoles = user.GetProperty("realmRoles").EnumerateArray().Select(r => r.GetString()).ToArray();
                (HttpStatusCode Status, JsonElement Body) issued;
                if (user.TryGetProperty("serviceAccountClientId", out var clientId))
                {
                    var client = Realm.GetProperty("clients").EnumerateArray().Single(c => c.GetProperty("clientId").GetString() == clientId.GetString());
                    issued = await RequestTokenAsync(provider, ("grant_type", "client_credentials"), ("client_id", clientId.GetString()!), ("client_secret", client.GetProperty("secret").GetString()!));
                }
                else
                {
                    var password = user.GetProperty("credentials")[0].GetProperty("value").GetString()!;
                    issued = await RequestTokenAsync(provider, ("grant_type", "password"), ("client_id", "conveyor-cli"),
                        ("username", user.GetProperty("username").GetString()!), ("password", password), ("scope", "openid conveyor-api"));
                }

                var name = user.GetProperty("username").GetString();
                Assert.That(issued.Status, Is.EqualTo(HttpStatusCode.OK), $"{name}: {issued.Body}");
                if (issued.Status != HttpStatusCode.OK) continue;
                var token = await ValidateAsync(provider, issued.Body.GetProperty("access_token").GetString()!);
                Assert.That(token.Alg, Is.EqualTo("RS256"), name);
                Assert.That(token.Subject, Is.EqualTo(user.GetProperty("id").GetString()), $"{name}: the realm user's id is the subject");
                Assert.That(RolesIn(token, shape), Is.EquivalentTo(expectedRoles), $"{name}: the realm roles, in the {shape} shape");
                Assert.That(token.ValidTo - token.IssuedAt, Is.EqualTo(TimeSpan.FromSeconds(Realm.GetProperty("accessTokenLifespan").GetInt32())), $"{name}: the realm's token lifespan");
            }
        });
    }

    [Test]
    public async Task Wrong_credentials_and_grants_a_client_may_not_use_are_refused()
    {
        await using var provider = await LocalIdentityProvider.StartAsync(15072);

        var wrongSecret = await RequestTokenAsync(provider, ("grant_type", "client_credentials"), ("client_id", "conveyor-ops-automation"), ("client_secret", "guess"));
        var unknownClient = await RequestTokenAsync(provider, ("grant_type", "client_credentials"), ("client_id", "intruder"), ("client_secret", "x"));
        var wrongPassword = await RequestTokenAsync(provider, ("grant_type", "password"), ("client_id", "conveyor-cli"), ("username", "alice"), ("password", "guess"));
        var unknownUser = await RequestTokenAsync(provider, ("grant_type", "password"), ("client_id", "conveyor-cli"), ("username", "mallory"), ("password", "x"));
        var passwordForPulse = await RequestTokenAsync(provider, ("grant_type", "password"), ("client_id", "pulse"), ("client_secret", "pulse-dev-only-secret"), ("username", "olivia"), ("password", "olivia-dev-only"));
        var audienceOnly = await RequestTokenAsync(provider, ("grant_type", "client_credentials"), ("client_id", "conveyor-api"), ("client_secret", "x"));

        string ErrorOf((HttpStatusCode, JsonElement Body) response) => response.Body.GetProperty("error").GetString()!;
        Assert.Multiple(() =>
        {
            Assert.That(ErrorOf(wrongSecret), Is.EqualTo("invalid_client"));
            Assert.That(ErrorOf(unknownClient), Is.EqualTo("invalid_client"));
            Assert.That(ErrorOf(wrongPassword), Is.EqualTo("invalid_grant"));
            Assert.That(ErrorOf(unknownUser), Is.EqualTo("invalid_grant"));
            Assert.That(ErrorOf(passwordForPulse), Is.EqualTo("unauthorized_client"), "Pulse signs in through the browser, never with a password grant");
            Assert.That(ErrorOf(audienceOnly), Is.EqualTo("invalid_client"), "the API audience client never gets tokens");
        });
    }

    [Test]
    public async Task An_authorization_request_for_an_unregistered_redirect_or_a_client_without_the_code_flow_is_refused()
    {
        await using var provider = await LocalIdentityProvider.StartAsync(15072);
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });

        async Task<HttpStatusCode> AuthorizeAsync(string clientId, string redirectUri)
        {
            var query = $"client_id={clientId}&redirect_uri={Uri.EscapeDataString(redirectUri)}&response_type=code&scope=openid"
                        + "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&state=s&nonce=n";
            using var response = await http.GetAsync($"{provider.Authority}/protocol/openid-connect/auth?{query}");
            return response.StatusCode;
        }

        var pulse = $"{RealmAddresses.PulseOrigins[0]}/signin-oidc";
        var registered = await AuthorizeAsync(RealmAddresses.PulseClient, pulse);
        var unregistered = await AuthorizeAsync("pulse", "http://attacker.example/signin-oidc");
        var serviceClient = await AuthorizeAsync("conveyor-ops-automation", pulse);

        Assert.Multiple(() =>
        {
            Assert.That(registered, Is.EqualTo(HttpStatusCode.Found), "a registered redirect goes on to the login page");
            Assert.That(unregistered, Is.EqualTo(HttpStatusCode.BadRequest), "never redirect a code to an unregistered address");
            Assert.That(serviceClient, Is.EqualTo(HttpStatusCode.BadRequest), "a service client has no browser sign-in");
        });
    }
}
