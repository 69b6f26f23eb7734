using System.Net.Http.Json;
using System.Text.Json;

namespace Integration.Tests.Infrastructure;

/// <summary>
/// The Aspire Dashboard (restored by tools/Dashboard) as a real OTLP receiver on test ports; its telemetry API
/// gives back what the processes exported, in OTLP JSON.
/// </summary>
public sealed class AspireDashboard : IAsyncDisposable
{
    public const string Version = "13.6.5";
    private const int UiPort = 15888;
    private const int OtlpHttpPort = 15318;
    private const int OtlpGrpcPort = 15317;

    private readonly ExternalProcess _process;
    private readonly HttpClient _http = new() { BaseAddress = Ui };

    private AspireDashboard(ExternalProcess process) => _process = process;

    public static Uri Ui => new($"http://127.0.0.1:{UiPort}/");

    /// <summary>Where the processes send traces, metrics and logs (OTLP over HTTP).</summary>
    public static Uri OtlpEndpoint => new($"http://127.0.0.1:{OtlpHttpPort}/");

    public static string Executable
    {
        get
        {
            var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            return Path.Combine(packages, "aspire.dashboard.sdk.linux-x64", Version, "tools", "Aspire.Dashboard");
        }
    }

    public static async Task<AspireDashboard> StartAsync()
    {
        if (!File.Exists(Executable)) Assert.Ignore($"The Aspire Dashboard is not restored at {Executable} (dotnet restore tools/Dashboard; ./build.sh test does).");
        var process = await ExternalProcess.StartAsync("aspire dashboard", Executable, [], new Uri(Ui, "health"), new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = Ui.ToString().TrimEnd('/'),
            ["ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] = OtlpEndpoint.ToString().TrimEnd('/'),
            ["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = $"http://127.0.0.1:{OtlpGrpcPort}",
            ["DASHBOARD__FRONTEND__AUTHMODE"] = "Unsecured",
            ["DASHBOARD__OTLP__AUTHMODE"] = "Unsecured",
            ["DASHBOARD__API__ENABLED"] = "true",
            ["DASHBOARD__API__AUTHMODE"] = "Unsecured",
        });
        return new AspireDashboard(process);
    }

    /// <summary>The trace id of the spans tagged with <paramref name="orderId"/>, once one has arrived.</summary>
    public async Task<string?> TraceOfOrderAsync(Guid orderId)
    {
        var spans = await ReadSpansAsync("api/telemetry/spans?limit=10000");
        return spans.FirstOrDefault(s => s.Attributes.GetValueOrDefault("conveyor.order_id") == orderId.ToString())?.TraceId;
    }

    public Task<IReadOnlyList<Span>> SpansOfTraceAsync(string traceId) => ReadSpansAsync($"api/telemetry/spans?traceId={traceId}&limit=10000");

    /// <summary>
    /// The trace's spans once <paramref name="complete"/> holds and every span's parent has arrived too: each
    /// process exports in its own batches, and a parent span ends (and is exported) after its children.
    /// </summary>
    public Task<IReadOnlyList<Span>> WaitForTraceAsync(string traceId, Func<IReadOnlyList<Span>, bool> complete, string what) =>
        TestEnvironment.Eventually(() => SpansOfTraceAsync(traceId),
            spans => complete(spans) && spans.Where(s => s.ParentSpanId is not null).All(s => spans.Any(p => p.SpanId == s.ParentSpanId)),
            what);

    private async Task<IReadOnlyList<Span>> ReadSpansAsync(string query)
    {
        var response = await _http.GetFromJsonAsync<JsonElement>(query);
        var spans = new List<Span>();
        foreach (var resource in response.GetProperty("data").GetProperty("resourceSpans").EnumerateArray())
        {
            var service = AttributesOf(resource.GetProperty("resource")).GetValueOrDefault("service.name") ?? "?";
            foreach (var scope in resource.GetProperty("scopeSpans").EnumerateArray())
            {
                foreach (var span in scope.GetProperty("spans").EnumerateArray())
                {
                    spans.Add(new Span(
                        span.GetProperty("traceId").GetString()!,
                        span.GetProperty("spanId").GetString()!,
                        span.TryGetProperty("parentSpanId", out var parent) ? parent.GetString() : null,
                        span.GetProperty("name").GetString()!,
                        service,
                        long.Parse(span.GetProperty("startTimeUnixNano").GetString()!),
                        AttributesOf(span)));
                }
            }
        }

        return spans;
    }

    // OTLP JSON: [{"key": "...", "value": {"stringValue": "..."}}]; the dashboard gives every value as a string.
    private static Dictionary<string, string> AttributesOf(JsonElement element) =>
        element.TryGetProperty("attributes", out var attributes)
            ? attributes.EnumerateArray().ToDictionary(a => a.GetProperty("key").GetString()!, a => a.GetProperty("value").EnumerateObject().First().Value.ToString())
            : [];

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _process.DisposeAsync();
    }

    public sealed record Span(string TraceId, string SpanId, string? ParentSpanId, string Name, string Service, long StartUnixNano, IReadOnlyDictionary<string, string> Attributes);
}
