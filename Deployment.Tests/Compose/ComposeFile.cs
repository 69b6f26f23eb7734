using Conveyor.Topology;
using Deployment.Tests.Infrastructure;

namespace Deployment.Tests.Compose;

/// <summary>docker-compose.yml as Compose reads it (anchors and merge keys resolved; variables left as written).</summary>
internal static class ComposeFile
{
    public static readonly string[] Processes = [.. SystemTopology.Endpoints.Select(e => e.Name)];
    public static readonly string[] DefaultInfrastructure = ["rabbitmq", "postgres", "keycloak", "mailpit"];
    public static readonly string[] Observability = ["otel-collector", "jaeger", "elasticsearch", "kibana", "prometheus", "grafana"];

    public static Dictionary<object, object?> Read() => Yaml.Parse(Repository.Read("docker-compose.yml"));

    public static Dictionary<string, Dictionary<object, object?>> Services() =>
        Read().Map("services").ToDictionary(s => s.Key.ToString()!, s => (Dictionary<object, object?>)s.Value!);

    public static IReadOnlyList<string> Profiles(Dictionary<object, object?> service) =>
        (service.Find("profiles") as List<object?>)?.Select(p => p!.ToString()!).ToList() ?? [];

    public static IReadOnlyList<string> Networks(Dictionary<object, object?> service) => service.Find("networks") switch
    {
        List<object?> list => list.Select(n => n!.ToString()!).ToList(),
        Dictionary<object, object?> map => map.Keys().ToList(),
        _ => [],
    };

    /// <summary>depends_on in its long form: service name to condition (the short form has none).</summary>
    public static Dictionary<string, string?> DependsOn(Dictionary<object, object?> service) => service.Find("depends_on") switch
    {
        Dictionary<object, object?> map => map.ToDictionary(d => d.Key.ToString()!, d => d.Value.Find("condition")?.ToString()),
        List<object?> list => list.ToDictionary(d => d!.ToString()!, _ => (string?)null),
        _ => [],
    };

    /// <summary>The published host ports ("127.0.0.1:&lt;host port&gt;:8080" → the host port).</summary>
    public static IEnumerable<int> PublishedPorts(Dictionary<object, object?> service) =>
        (service.Find("ports") as List<object?> ?? []).Select(p => p!.ToString()!.Split(':')).Select(parts => int.Parse(parts[^2]));

    public static Dictionary<string, string> Environment(Dictionary<object, object?> service) =>
        (service.Find("environment") as Dictionary<object, object?> ?? []).ToDictionary(e => e.Key.ToString()!, e => e.Value?.ToString() ?? "");
}
