using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Integration.Tests.System;

namespace Integration.Tests.Infrastructure;

/// <summary>
/// Debian's Prometheus, started by the test with deploy/prometheus's alert rules and a scrape configuration
/// for the test system's ports; queried through its HTTP API.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    public const string Executable = "/usr/bin/prometheus";
    private const int Port = 19090;

    private readonly ExternalProcess _process;
    private readonly HttpClient _http = new() { BaseAddress = new Uri($"http://127.0.0.1:{Port}/") };

    private PrometheusServer(ExternalProcess process) => _process = process;

    public static async Task<PrometheusServer> StartAsync(IEnumerable<(string Endpoint, int Port)> endpoints, string rabbitMqVhost)
    {
        if (!File.Exists(Executable)) Assert.Ignore($"{Executable} is not installed (apt-get install prometheus; ./build.sh test installs it).");
        var root = RunningSystem.FindRepositoryRoot();
        var folder = Path.Combine(root, ".artifacts", "test-prometheus");
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(folder);
        var targets = string.Join("\n", endpoints.Select(e => $"      - targets: [\"127.0.0.1:{e.Port}\"]\n        labels: {{ endpoint: {e.Endpoint} }}"));
        var config = $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files:
              - {Path.Combine(root, "deploy", "prometheus", "rules")}/*.yml
            scrape_configs:
              - job_name: conveyor
                static_configs:
            {targets}
              - job_name: rabbitmq
                metrics_path: /metrics/detailed
                params:
                  vhost: [{rabbitMqVhost}]
                  family: [queue_coarse_metrics, queue_consumer_count]
                static_configs:
                  - targets: ["127.0.0.1:15692"]
            """;
        var configFile = Path.Combine(folder, "prometheus.yml");
        await File.WriteAllTextAsync(configFile, config);
        var process = await ExternalProcess.StartAsync("prometheus", Executable,
            [$"--config.file={configFile}", $"--storage.tsdb.path={Path.Combine(folder, "data")}", $"--web.listen-address=127.0.0.1:{Port}"],
            new Uri($"http://127.0.0.1:{Port}/-/ready"));
        return new PrometheusServer(process);
    }

    /// <summary>An instant query: each series' labels and value.</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> QueryAsync(string promql)
    {
        var response = await _http.GetFromJsonAsync<JsonElement>($"api/v1/query?query={Uri.EscapeDataString(promql)}");
        Assert.That(response.GetProperty("status").GetString(), Is.EqualTo("success"), $"{promql}: {response}");
        return response.GetProperty("data").GetProperty("result").EnumerateArray()
            .Select(series => (
                (IReadOnlyDictionary<string, string>)series.GetProperty("metric").EnumerateObject().ToDictionary(l => l.Name, l => l.Value.GetString()!),
                double.Parse(series.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)))
            .ToList();
    }

    public async Task<double?> ScalarAsync(string promql) => (await QueryAsync(promql)) is [var only] ? only.Value : null;

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _process.DisposeAsync();
    }
}
