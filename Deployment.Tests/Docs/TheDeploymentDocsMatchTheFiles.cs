using Deployment.Tests.Compose;
using Deployment.Tests.Infrastructure;

namespace Deployment.Tests.Docs;

/// <summary>docs/deployment.md's "Run with Docker" and "Deploy to Kubernetes" stay true to the files.</summary>
public class TheDeploymentDocsMatchTheFiles
{
    private static string Section(string heading)
    {
        var document = Repository.Read("docs", "deployment.md");
        var start = document.IndexOf($"\n## {heading}\n", StringComparison.Ordinal);
        Assert.That(start, Is.GreaterThanOrEqualTo(0), $"docs/deployment.md has no section '{heading}'");
        var end = document.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        return end < 0 ? document[start..] : document[start..end];
    }

    [Test]
    public void Run_with_Docker_lists_every_published_port_and_the_one_command()
    {
        var section = Section("Run with Docker");
        Assert.Multiple(() =>
        {
            Assert.That(section, Does.Contain("docker compose up").And.Contain("docker compose --profile observability up"));
            foreach (var (name, service) in ComposeFile.Services())
            {
                foreach (var port in ComposeFile.PublishedPorts(service))
                {
                    Assert.That(section, Does.Contain($"localhost:{port}"), $"{name}'s port {port} is not in docs/deployment.md");
                }
            }

            foreach (var what in new[] { "Orders API", "Pulse", "Keycloak", "Mailpit", "Grafana", "Jaeger", "Kibana", "Prometheus", "RabbitMQ" })
            {
                Assert.That(section, Does.Contain(what));
            }
        });
    }

    [Test]
    public void Deploy_to_Kubernetes_installs_the_chart_with_the_example_values()
    {
        var section = Section("Deploy to Kubernetes");
        Assert.Multiple(() =>
        {
            Assert.That(section, Does.Contain("helm install conveyor deploy/helm/conveyor").And.Contain("-f deploy/helm/examples/production.yaml"));
            Assert.That(File.Exists(Repository.PathTo("deploy", "helm", "examples", "production.yaml")));
            foreach (var process in ComposeFile.Processes) Assert.That(section, Does.Contain($"`{process}`"));
        });
    }
}
