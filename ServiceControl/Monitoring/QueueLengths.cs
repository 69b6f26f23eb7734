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
public sealed class QueueLengths(ConnectionSettings connections, ServiceControlOptions options, IHttpClientFactory http, TimeProvider clock, ILogger<QueueLengths> logger) : BackgroundService
{
    public const int SamplesKept = 60;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Queue<QueueLengthSample>> _queues = [];

    /// <summary>Why the last read failed, if it did.</summary>
    public string? Problem { get; private set; }

    public IReadOnlyList<(string Queue, IReadOnlyList<QueueLengthSample> Samples)> Snapshot()
    {
        lock (_lock)
        {
            return _queues.OrderBy(q => q.Key).Select(q => (q.Key, (IReadOnlyList<QueueLengthSample>)q.Value.ToList())).ToList();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var (client, path) = Client();
        using var timer = new PeriodicTimer(options.QueueLengthPollInterval, clock);
        try
        {
            do
            {
                try
                {
                    await ReadAsync(client, path, stoppingToken);
                    Problem = null;
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    if (Problem is null) logger.LogWarning("Cannot read queue lengths from the RabbitMQ management API: {Reason}", ex.Message);
                    Problem = ex.Message;
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ReadAsync(HttpClient client, string path, CancellationToken cancellation)
    {
        using var document = JsonDocument.Parse(await client.GetStringAsync(path, cancellation));
        var now = clock.GetUtcNow();
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
