using System.Text.Json.Nodes;
using Integration.Tests.System;

namespace Integration.Tests.Infrastructure;

/// <summary>
/// The realm export (deploy/keycloak/conveyor-realm.json) plus two service clients only the tests use, both
/// with the ops role: one whose tokens live 3 seconds (Keycloak's <c>access.token.lifespan</c> client
/// attribute), to see a token expire; one without the <c>conveyor-api</c> client scope, so its tokens carry
/// no API audience. Pulse's access tokens live <see cref="PulseTokenLifespan"/>, so every Pulse test renews them
/// with the refresh token as a long session would. The running system's identity provider reads this copy, and
/// reads it again when a test changes it (<see cref="DisableUserAsync"/>).
/// </summary>
public static class TestRealm
{
    public const string ShortLivedClient = "conveyor-tests-short-lived";
    public const string OtherAudienceClient = "conveyor-tests-other-audience";

    // LOCAL TEST DEFAULT ONLY: the secret of both test clients.
    public const string Secret = "tests-dev-only-secret";

    public static readonly TimeSpan ShortLifespan = TimeSpan.FromSeconds(3);

    public static readonly TimeSpan PulseTokenLifespan = TimeSpan.FromSeconds(5);

    private static readonly Lazy<string> Written = new(Write);

    public static string File => Written.Value;

    private static string Write()
    {
        var realm = Export.Value.DeepClone();
        AddServiceClient(realm, ShortLivedClient, ["conveyor-api", "roles"], new JsonObject { ["access.token.lifespan"] = ((int)ShortLifespan.TotalSeconds).ToString() });
        AddServiceClient(realm, OtherAudienceClient, ["roles"], new JsonObject());
        var pulse = realm["clients"]!.AsArray().Single(c => (string?)c!["clientId"] == "pulse")!;
        pulse["attributes"]!["access.token.lifespan"] = ((int)PulseTokenLifespan.TotalSeconds).ToString();
        var path = Path.Combine(RunningSystem.FindRepositoryRoot(), ".artifacts", "test-realm.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        global::System.IO.File.WriteAllText(path, realm.ToJsonString());
        return path;
    }

    /// <summary>Disables <paramref name="username"/> in the running provider's realm, as an administrator would in Keycloak, until the returned handle is disposed.</summary>
    public static IAsyncDisposable DisableUser(string username) => ChangeUser(username, user => user["enabled"] = false);

    /// <summary>Gives <paramref name="username"/> exactly <paramref name="roles"/> in the running provider's realm until the returned handle is disposed.</summary>
    public static IAsyncDisposable SetRoles(string username, params string[] roles) =>
        ChangeUser(username, user => user["realmRoles"] = new JsonArray([.. roles.Select(r => JsonValue.Create(r))]));

    /// <summary>A development user of the realm export, as it stands in deploy/keycloak/conveyor-realm.json.</summary>
    public static JsonNode User(string username) => UserIn(Export.Value, username);

    private static readonly Lazy<JsonNode> Export = new(() =>
        JsonNode.Parse(global::System.IO.File.ReadAllText(Path.Combine(RunningSystem.FindRepositoryRoot(), "deploy", "keycloak", "conveyor-realm.json")))!);

    private static JsonNode UserIn(JsonNode realm, string username) => realm["users"]!.AsArray().Single(u => (string?)u!["username"] == username)!;

    /// <summary>Changes one user in the running provider's realm file (it reads the file again) until the returned handle is disposed.</summary>
    private static IAsyncDisposable ChangeUser(string username, Action<JsonNode> change)
    {
        var original = global::System.IO.File.ReadAllText(File);
        var realm = JsonNode.Parse(original)!;
        change(UserIn(realm, username));
        global::System.IO.File.WriteAllText(File, realm.ToJsonString());
        return new Restore(original);
    }

    private sealed class Restore(string original) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            global::System.IO.File.WriteAllText(File, original);
            return ValueTask.CompletedTask;
        }
    }

    private static void AddServiceClient(JsonNode realm, string clientId, string[] scopes, JsonObject attributes)
    {
        realm["clients"]!.AsArray().Add(new JsonObject
        {
            ["clientId"] = clientId,
            ["publicClient"] = false,
            ["secret"] = Secret,
            ["enabled"] = true,
            ["standardFlowEnabled"] = false,
            ["serviceAccountsEnabled"] = true,
            ["attributes"] = attributes,
            ["defaultClientScopes"] = new JsonArray([.. scopes.Select(s => JsonValue.Create(s))]),
        });
        realm["users"]!.AsArray().Add(new JsonObject
        {
            ["id"] = Guid.NewGuid().ToString(),
            ["username"] = $"service-account-{clientId}",
            ["enabled"] = true,
            ["serviceAccountClientId"] = clientId,
            ["realmRoles"] = new JsonArray("ops"),
        });
    }
}
