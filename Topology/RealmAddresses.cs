using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Conveyor.Topology;

/// <summary>
/// Where Keycloak may send an operator back after Pulse's sign-in and sign-out: ServiceControl's address in a local
/// run, in the tests and in compose. The only part of the realm derived from the topology; the rest is hand-written.
/// </summary>
public static class RealmAddresses
{
    public const string Path = "deploy/keycloak/conveyor-realm.json";

    public const string PulseClient = "pulse";

    public static IReadOnlyList<string> PulseOrigins =>
    [
        $"http://127.0.0.1:{SystemTopology.ServiceControl.Port}",
        $"http://127.0.0.1:{SystemTopology.ServiceControl.TestPort}",
        $"http://localhost:{SystemTopology.ServiceControl.Port}",
    ];

    /// <summary>The realm export <paramref name="realmJson"/> with the Pulse client's redirect addresses set.</summary>
    public static string ApplyTo(string realmJson)
    {
        var realm = JsonNode.Parse(realmJson)!.AsObject();
        var pulse = realm["clients"]!.AsArray().Single(c => (string?)c!["clientId"] == PulseClient)!.AsObject();
        pulse["redirectUris"] = new JsonArray([.. PulseOrigins.Select(o => (JsonNode)$"{o}/signin-oidc")]);
        if (pulse["attributes"] is null) pulse["attributes"] = new JsonObject();
        // Keycloak's attribute holds several addresses separated by ##.
        pulse["attributes"]!["post.logout.redirect.uris"] = string.Join("##", PulseOrigins.Select(o => $"{o}/signout-callback-oidc"));
        return realm.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }
}
