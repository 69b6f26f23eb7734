using System.Text.Json;
using System.Text.RegularExpressions;
using Conveyor.Topology;
using Deployment.Tests.Helm;
using Deployment.Tests.Infrastructure;

namespace Deployment.Tests.Topology;

/// <summary>
/// An endpoint's name (its queue, database, role and broker user) is written in Topology/ and what is generated from
/// it: code, tests, scripts and templates take it from there. What cannot take it (the chart's values and their
/// schema, Prometheus's rules and their tests, the dashboards) may name only what the topology declares, so a renamed
/// or removed endpoint fails here instead of at run time.
/// </summary>
public class EveryNameComesFromTheTopology
{
    private static readonly string[] Names = [.. SystemTopology.Endpoints.SelectMany(e => new[] { e.Name, e.Queue, e.Database, e.DatabaseRole, e.BrokerUser }).Distinct()];

    [Test]
    public async Task No_code_script_or_template_outside_the_topology_spells_an_endpoint_name()
    {
        // A quoted name, not an XML doc's parameter reference; EF's table names (ToTable, the migrations' history) are the domain's, not the topology's.
        var literal = new Regex($@"(?<!name=)([""'])(?:{string.Join('|', Names.Select(Regex.Escape))})\1");
        var code = new Regex(@"(\.(cs|ps1|psm1|sh|tpl|txt|ya?ml)|Dockerfile)$");
        var files = (await TrackedFiles.HandWrittenAsync()).Where(f => code.IsMatch(f.Path) && !f.Path.Contains("/Migrations/", StringComparison.Ordinal)
            && !f.Path.StartsWith("deploy/prometheus/", StringComparison.Ordinal) && !f.Path.StartsWith("deploy/helm/conveyor/values", StringComparison.Ordinal));

        var found = TrackedFiles.Lines(files, line => literal.IsMatch(line) && !line.Contains("ToTable(", StringComparison.Ordinal));

        Assert.That(found, Is.Empty, () => "take the name from Conveyor.Topology (C#), deploy/topology.json (build.ps1), files/topology.json (the chart) or a generated region:\n" + string.Join('\n', found));
    }

    [Test]
    public void The_charts_processes_are_the_topologys_endpoints()
    {
        var values = Yaml.Parse(File.ReadAllText(Path.Combine(Repository.Root, Chart.Path, "values.yaml")));
        using var schema = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.Root, Chart.Path, "values.schema.json")));
        var processes = schema.RootElement.GetProperty("properties").GetProperty("processes");
        var example = Yaml.Parse(File.ReadAllText(Path.Combine(Repository.Root, Chart.ProductionValues)));

        Assert.Multiple(() =>
        {
            Assert.That(values.Map("processes").Keys(), Is.EquivalentTo(Chart.Processes), "values.yaml");
            Assert.That(processes.GetProperty("required").EnumerateArray().Select(e => e.GetString()), Is.EquivalentTo(Chart.Processes), "values.schema.json: required");
            Assert.That(processes.GetProperty("properties").EnumerateObject().Select(p => p.Name), Is.EquivalentTo(Chart.Processes), "values.schema.json: properties");
            if (example.ContainsKey("processes")) Assert.That(example.Map("processes").Keys(), Is.SubsetOf(Chart.Processes), Chart.ProductionValues);
        });
    }

    [Test]
    public async Task The_alerts_their_tests_and_the_dashboards_name_only_declared_queues_and_endpoints()
    {
        var label = new Regex(@"\b(?<label>queue|endpoint)\s*!?=~?\s*\\?""(?<value>[^""\\]+)\\?""");
        var known = Names.Append(SystemTopology.ErrorQueue).ToHashSet();
        var files = (await TrackedFiles.HandWrittenAsync()).Where(f => f.Path.StartsWith("deploy/prometheus/", StringComparison.Ordinal) || f.Path.StartsWith("deploy/grafana/", StringComparison.Ordinal)).ToList();

        var labels = files.SelectMany(f => label.Matches(f.Text).Select(m => (f.Path, Label: m.Groups["label"].Value, Value: m.Groups["value"].Value))).ToList();
        var unknown = labels.Where(l => !known.Contains(l.Value) && !l.Value.StartsWith('$')).Select(l => $"{l.Path}: {l.Label}=\"{l.Value}\"").ToList();

        Assert.Multiple(() =>
        {
            Assert.That(labels, Has.Count.GreaterThan(10), "the label scan finds the rules' and tests' queue and endpoint labels");
            Assert.That(unknown, Is.Empty, "a queue or endpoint the topology does not declare");
        });
    }
}
