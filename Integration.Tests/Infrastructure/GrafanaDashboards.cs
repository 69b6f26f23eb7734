using System.Text.Json;
using Integration.Tests.System;

namespace Integration.Tests.Infrastructure;

/// <summary>The PromQL of every panel in deploy/grafana/dashboards.</summary>
public static class GrafanaDashboards
{
    public static IEnumerable<(string Dashboard, string Panel, string Expression)> PanelQueries()
    {
        var folder = Path.Combine(RunningSystem.FindRepositoryRoot(), "deploy", "grafana", "dashboards");
        foreach (var file in Directory.GetFiles(folder, "*.json").Order())
        {
            using var dashboard = JsonDocument.Parse(File.ReadAllText(file));
            var title = dashboard.RootElement.GetProperty("title").GetString()!;
            foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
            {
                foreach (var target in panel.GetProperty("targets").EnumerateArray())
                {
                    yield return (title, panel.GetProperty("title").GetString()!, target.GetProperty("expr").GetString()!);
                }
            }
        }
    }
}
