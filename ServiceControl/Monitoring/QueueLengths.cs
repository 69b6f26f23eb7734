using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Conveyor.Hosting;

namespace Conveyor.ServiceControl.Monitoring;

public sealed record QueueLengthSample(DateTimeOffset At, long Messages, long Ready, long Unacknowledged);

/// <summary>
/// Reads every queue's length in the vhost from the RabbitMQ management API on a fixed interval and keeps
/// the recent samples for the monitoring charts.
/// </summary>
public sealed class QueueLengths(ConnectionSettings connections, ServiceControlOptions options, IHttpClientFactory http, TimeProvider clock, ILogger<QueueLengths> logger)
    : PeriodicWork(clock, logger)
{
    public const int SamplesKept = 60;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Queue<QueueLengthSample>> _queues = [];
    private (HttpClient Client, string Path)? _api;

    /// <summary>Why the last read failed, if it did.</summary>
    public string? Problem { get; private set; }

    public IReadOnlyList<(string Queue, IReadOnlyList<QueueLengthSample> Samples)> Snapshot()
    {
        lock (_lock)
        {
            return _queues.OrderBy(q => q.Key).Select(q => (q.Key, (IReadOnlyList<QueueLengthSample>)q.Value.ToList())).ToList();
        }
    }

    protected override TimeSpan Interval => options.QueueLengthPollInterval;

    protected override string FailureMessage => "Cannot read queue lengths from the RabbitMQ management API";

    protected override async Task RunOnceAsync(CancellationToken cancellation)
    {
        var (client, path) = _api ??= Client();
        try
        {
            await ReadAsync(client, path, cancellation);
            Problem = null;
        }
        catch (Exception ex) when (!cancellation.IsCancellationRequested)
        {
            // Shown on the monitoring page; logged once, not every few seconds.
            if (Problem is null) Logger.LogWarning("Cannot read queue lengths from the RabbitMQ management API: {Reason}", ex.Message);
            Problem = ex.Message;
        }
    }

    private async Task ReadAsync(HttpClient client, string path, CancellationToken cancellation)
    {
        using var document = JsonDocument.Parse(await client.GetStringAsync(path, cancellation));
        var now = Clock.GetUtcNow();
        lock (_lock)
        {
            foreach (var queue in document.RootElement.EnumerateArray())
            {
                var name = queue.GetProperty("name").GetString()!;
                // Each node's reply queue for request/reply: short-lived and empty, it only clutters the list.
                if (name.StartsWith("wolverine.response.", StringComparison.Ordinal)) continue;
                if (!_queues.TryGetValue(name, out var samples)) _queues[name] = samples = new Queue<QueueLengthSample>();
                samples.Enqueue(new QueueLengthSample(now, Long(queue, "messages"), Long(queue, "messages_ready"), Long(queue, "messages_unacknowledged")));
                while (samples.Count > SamplesKept) samples.Dequeue();
            }
        }
    }

    private static long Long(JsonElement queue, string property) =>
        queue.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : 0;

    /// <summary>The management API of the broker ServiceControl is connected to, unless configured otherwise.</summary>
    private (HttpClient Client, string Path) Client()
    {
        var amqp = connections.RabbitMqUri;
        var management = options.RabbitMqManagementUri ?? new UriBuilder("http", amqp.Host, 15672) { UserName = amqp.UserInfo.Split(':')[0], Password = amqp.UserInfo.Split(':').ElementAtOrDefault(1) }.Uri;
        var vhost = amqp.AbsolutePath.Trim('/') is { Length: > 0 } v ? Uri.UnescapeDataString(v) : "/";

        var client = http.CreateClient(nameof(QueueLengths));
        client.BaseAddress = new Uri(management.GetLeftPart(UriPartial.Authority));
        client.Timeout = TimeSpan.FromSeconds(5);
        var credentials = Uri.UnescapeDataString(management.UserInfo);
        if (credentials.Length > 0)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        }

        return (client, $"/api/queues/{Uri.EscapeDataString(vhost)}?columns=name,messages,messages_ready,messages_unacknowledged");
    }
}
