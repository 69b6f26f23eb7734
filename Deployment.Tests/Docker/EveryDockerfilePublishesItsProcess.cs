using System.Text;

namespace Deployment.Tests.Docker;

/// <summary>
/// Each Dockerfile's build stage carried out without Docker (<see cref="DockerBuildSimulation"/>): its restore
/// and its `dotnet publish` run on exactly the files it copies, and the final stage ends up holding the
/// assembly its ENTRYPOINT starts. One publish per Dockerfile, one after the other.
/// </summary>
[NonParallelizable]
public class EveryDockerfilePublishesItsProcess
{
    public static IEnumerable<string> Dockerfiles => Dockerfile.DotNet();

    public static IEnumerable<string> NodeDockerfiles => Dockerfile.Node();

    [TestCaseSource(nameof(NodeDockerfiles))]
    public async Task Its_final_stage_holds_the_package_its_entry_point_starts_with_its_contracts(string path)
    {
        var dockerfile = Dockerfile.Read(path);
        using var build = new DockerBuildSimulation();

        await build.RunAsync(dockerfile);

        var final = DockerBuildSimulation.StageName(dockerfile, dockerfile.Stages.Count - 1);
        var entryPoint = dockerfile.EntryPoint;
        Assert.That(entryPoint, Has.Length.EqualTo(2).And.ItemAt(0).EqualTo("node"), $"{path}: ENTRYPOINT [\"node\", \"<main>.js\"]");
        var workdir = build.WorkdirOf(final).TrimEnd('/');
        var settings = dockerfile.Final.All("ENV").Select(e => e.Arguments.Split('=', 2)).ToDictionary(e => e[0], e => e[1]);
        Assert.Multiple(() =>
        {
            Assert.That(File.Exists(build.PathIn(final, $"{workdir}/{entryPoint[1]}")), $"{path}: {entryPoint[1]} is not in the final stage's {workdir}");
            Assert.That(Directory.Exists(build.PathIn(final, $"{workdir}/node_modules/amqplib")), $"{path}: the installed packages are not in the final stage");
            Assert.That(Directory.Exists(build.PathIn(final, $"{workdir}/node_modules/jest")), Is.False, $"{path}: the test tools are in the final stage");
            // What it reads at start: the topology, the message schemas, the stock file, each where the image says.
            foreach (var (setting, file) in new[] { ("Conveyor__TopologyFile", ""), ("Inventory__SchemasDirectory", "/OrderPlaced.schema.json"), ("Inventory__StockFile", "") })
            {
                Assert.That(settings.TryGetValue(setting, out var value), $"{path}: ENV {setting} is not set");
                if (value is not null) Assert.That(File.Exists(build.PathIn(final, value + file)), $"{path}: {setting}={value}: {value}{file} is not in the final stage");
            }
        });
    }

    [TestCaseSource(nameof(Dockerfiles))]
    public async Task Its_final_stage_holds_what_its_entry_point_starts(string path)
    {
        var dockerfile = Dockerfile.Read(path);
        using var build = new DockerBuildSimulation();

        await build.RunAsync(dockerfile);

        var final = DockerBuildSimulation.StageName(dockerfile, dockerfile.Stages.Count - 1);
        var entryPoint = dockerfile.EntryPoint;
        Assert.That(entryPoint, Has.Length.EqualTo(2).And.ItemAt(0).EqualTo("dotnet"), $"{path}: ENTRYPOINT [\"dotnet\", \"<assembly>.dll\"]");
        var assembly = build.PathIn(final, $"{build.WorkdirOf(final).TrimEnd('/')}/{entryPoint[1]}");
        Assert.Multiple(() =>
        {
            Assert.That(File.Exists(assembly), $"{path}: {entryPoint[1]} is not in the final stage's {build.WorkdirOf(final)}");
            // Framework-dependent: the aspnet image's runtime starts it through its runtimeconfig.
            Assert.That(File.Exists(Path.ChangeExtension(assembly, ".runtimeconfig.json")), $"{path}: no runtimeconfig.json beside {entryPoint[1]}");
            Assert.That(File.Exists(Path.Combine(Path.GetDirectoryName(assembly)!, "appsettings.json")), $"{path}: no appsettings.json beside {entryPoint[1]}");
            // A Wolverine host loads its handler code (TypeLoadMode.Static): the publish must have generated and compiled it in.
            if (File.Exists(Path.Combine(Path.GetDirectoryName(assembly)!, "Wolverine.dll")))
            {
                var holdsHandlerCode = Encoding.ASCII.GetString(File.ReadAllBytes(assembly)).Contains("Internal.Generated.WolverineHandlers.", StringComparison.Ordinal);
                Assert.That(holdsHandlerCode, $"{path}: {entryPoint[1]} holds no pre-generated Wolverine handler code");
            }
        });
    }
}
