using Conveyor.Topology;
using Deployment.Tests.Infrastructure;

namespace Deployment.Tests.Helm;

/// <summary>The chart in deploy/helm/conveyor, linted and rendered by helm (offline: no cluster).</summary>
internal static class Chart
{
    public const string Path = "deploy/helm/conveyor";
    public const string ProductionValues = "deploy/helm/examples/production.yaml";
    public static readonly string[] Processes = [.. SystemTopology.Endpoints.Select(e => e.Name)];
    public static readonly string[] Endpoints = [.. SystemTopology.BusinessEndpoints.Select(e => e.Name)];

    public static Task<CommandResult> LintAsync(params string[] arguments) => Command.RunAsync(Tools.Helm, ["lint", "--strict", Path, .. arguments]);

    public static async Task<string> TemplateAsync(params string[] arguments)
    {
        var result = await Command.RunAsync(Tools.Helm, ["template", "conveyor", Path, .. arguments]);
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        return result.Output;
    }

    public static async Task<IReadOnlyList<Dictionary<object, object?>>> RenderAsync(params string[] arguments) => Yaml.ParseAll(await TemplateAsync(arguments));

    public static IEnumerable<Dictionary<object, object?>> OfKind(this IEnumerable<Dictionary<object, object?>> manifests, string kind) =>
        manifests.Where(m => m.Text("kind") == kind);

    public static string Name(this Dictionary<object, object?> manifest) => manifest.Text("metadata.name");
}
