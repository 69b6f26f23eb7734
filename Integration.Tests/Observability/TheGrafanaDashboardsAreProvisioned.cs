using System.Text.Json;
using System.Text.RegularExpressions;
using Integration.Tests.System;

namespace Integration.Tests.Observability;

/// <summary>
/// deploy/grafana without a Grafana (none runs on this machine): the dashboards use the provisioned data
/// source, have unique ids and are found by the provider. Their queries are run against a real Prometheus
/// in <see cref="OneTracePerOrderAndItsMetrics"/>.
/// </summary>
public class TheGrafanaDashboardsAreProvisioned
{
    private static readonly string Folder = Path.Combine(RunningSystem.FindRepositoryRoot(), "deploy", "grafana");

    [Test]
    public void Every_panel_reads_the_provisioned_prometheus_data_source_and_ids_are_unique()
    {
        var provisioned = Regex.Match(File.ReadAllText(Path.Combine(Folder, "provisioning", "datasources", "prometheus.yml")), @"uid:\s*(\S+)").Groups[1].Value;
        var dashboards = Directory.GetFiles(Path.Combine(Folder, "dashboards"), "*.json").Select(f => JsonDocument.Parse(File.ReadAllText(f)).RootElement).ToList();

        Assert.Multiple(() =>
        {
            Assert.That(provisioned, Is.EqualTo("conveyor-prometheus"));
            Assert.That(dashboards, Has.Count.EqualTo(3), "system overview, messaging per endpoint, RabbitMQ queues");
            Assert.That(dashboards.Select(d => d.GetProperty("uid").GetString()), Is.Unique);
            foreach (var dashboard in dashboards)
            {
                var title = dashboard.GetProperty("title").GetString();
                var panels = dashboard.GetProperty("panels").EnumerateArray().ToList();
                Assert.That(panels.Select(p => p.GetProperty("id").GetInt32()), Is.Unique, $"{title}: panel ids");
                foreach (var panel in panels)
                {
                    Assert.That(panel.GetProperty("datasource").GetProperty("uid").GetString(), Is.EqualTo(provisioned), $"{title} / {panel.GetProperty("title")}");
                    Assert.That(panel.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("expr").GetString()), Is.Not.Empty.And.All.Not.Empty, $"{title} / {panel.GetProperty("title")}: queries");
                }
            }
        });
    }

    [Test]
    public void The_dashboard_provider_reads_the_folder_the_dashboards_are_mounted_in()
    {
        var provider = File.ReadAllText(Path.Combine(Folder, "provisioning", "dashboards", "conveyor.yml"));
        Assert.That(provider, Does.Contain("path: /var/lib/grafana/dashboards"), "docker-compose mounts deploy/grafana/dashboards there");
    }
}
