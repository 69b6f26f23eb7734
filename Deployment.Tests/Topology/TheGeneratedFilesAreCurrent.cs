using Conveyor.Topology;
using Deployment.Tests.Infrastructure;

namespace Deployment.Tests.Topology;

/// <summary>
/// Everything derived from Topology/SystemTopology.cs (the broker definitions for up, compose and Helm, build.ps1's
/// topology.json, and the generated regions of compose, the init script, the chart's notes and the docs) is
/// committed exactly as tools/Topology writes it: a change to the topology without <c>./build.sh topology</c> fails here.
/// </summary>
public class TheGeneratedFilesAreCurrent
{
    [Test]
    public void Every_generated_file_is_what_the_generator_writes()
    {
        Assert.That(GeneratedFiles.Stale(Repository.Root), Is.Empty, "run ./build.sh topology and commit what it writes");
    }

    [Test]
    public void A_hand_edit_of_a_generated_file_or_region_is_caught()
    {
        var copy = Directory.CreateTempSubdirectory("conveyor-topology-").FullName;
        try
        {
            foreach (var path in GeneratedFiles.All(Repository.Root).Keys.Concat(GeneratedFiles.Inputs))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(copy, path))!);
                File.Copy(Path.Combine(Repository.Root, path), Path.Combine(copy, path));
            }

            var definitions = Path.Combine(copy, "deploy", "compose", "rabbitmq", "definitions.json");
            File.WriteAllText(definitions, File.ReadAllText(definitions).Replace("^(orders)$", "^(orders|payments)$", StringComparison.Ordinal));
            var compose = Path.Combine(copy, "docker-compose.yml");
            File.WriteAllText(compose, File.ReadAllText(compose).Replace($"127.0.0.1:{SystemTopology.Orders.Port}:8080", "127.0.0.1:6080:8080", StringComparison.Ordinal));

            Assert.That(GeneratedFiles.Stale(copy), Is.EquivalentTo(new[] { "deploy/compose/rabbitmq/definitions.json", "docker-compose.yml" }));
            GeneratedFiles.WriteAll(copy);
            Assert.That(GeneratedFiles.Stale(copy), Is.Empty, "the generator repairs what it owns");
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }
}
