using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using HdrHistogram;
using Conveyor.Topology;
using Npgsql;

namespace Conveyor.Bench;

/// <summary>
/// Orders through the real system: placed over the authenticated HTTP API, followed to Confirmed and to the
/// confirmation e-mail by the timestamps the endpoints recorded (orders.placed_at, the order's timeline,
/// sent_notifications.sent_at), never by how fast the bench happened to poll.
/// </summary>
public static class SystemRun
{
    public static async Task<int> RunAsync(BenchOptions options)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Math.Max(64, options.Concurrency * 2), PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        var token = new CustomerToken(options.TokenEndpoint);
        // With several Orders instances the requests take turns, as a load balancer would send them.
        var next = 0;

        async Task<Guid?> PlaceAsync(CancellationToken cancellation)
        {
            var api = options.OrdersApis[(Interlocked.Increment(ref next) & int.MaxValue) % options.OrdersApis.Count];
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(api, "/orders"))
            {
                Content = JsonContent.Create(new
                {
                    currency = "EUR", paymentToken = "tok_ok",
                    lines = new[] { new { sku = "BOOK-DDD", quantity = 1 } },
                }),
            };
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await token.GetAsync(cancellation));
            using var response = await http.SendAsync(request, cancellation);
            if (response.StatusCode != HttpStatusCode.Accepted) return null;
            return (await response.Content.ReadFromJsonAsync<JsonElement>(cancellation)).GetProperty("id").GetGuid();
        }

        await using var completions = new CompletionWatcher(options.Database(SystemTopology.Notifications),
            "select order_id from sent_notifications where kind = 'OrderConfirmed' and order_id = any(@ids)");
        Console.WriteLine($"[{options.Label}] warming up for {options.Warmup.TotalSeconds:0} s");
        var warmup = await LoadGenerator.RunAsync(PlaceAsync, completions, options.Warmup, options.Concurrency, options.Rate);
        var meter = ProcessUsageMeter.Start(ProcessGroup.Discover(Path.Combine(".artifacts", "run")));
        var measuring = global::System.Diagnostics.Stopwatch.StartNew();
        Console.WriteLine($"[{options.Label}] {PhaseResult.LoadDescription(options)} for {options.Duration.TotalSeconds:0} s");
        var load = await LoadGenerator.RunAsync(PlaceAsync, completions, options.Duration, options.Concurrency, options.Rate);
        Console.WriteLine($"[{options.Label}] {load.Accepted.Count} orders accepted ({load.Failed} requests failed); a client's cycle p50 {LatencySummary.Of(load.Cycle).P50Ms} ms; waiting for every confirmation e-mail");

        if (load.Accepted.Count == 0) throw new BenchFailedException($"no order was accepted ({load.Failed} requests failed)");
        var all = warmup.Accepted.Concat(load.Accepted).ToList();
        var outcomes = await Outcomes.WaitForAsync(options, all, TimeSpan.FromMinutes(3));
        // From the first measured order to the last e-mail: the work the load caused, not just its sending.
        var processes = meter(measuring.Elapsed);
        Outcomes.Verify(outcomes, all);
        var measured = load.Accepted.Select(id => outcomes[id]).ToList();

        var first = measured.Min(o => o.PlacedAt);
        var result = new PhaseResult(
            options.Label, "system", options.Instances, PhaseResult.LoadDescription(options), Math.Round(load.Elapsed.TotalSeconds, 1),
            measured.Count, load.Failed,
            Math.Round(measured.Count / load.Elapsed.TotalSeconds, 1),
            PhaseResult.Throughput(measured.Count, first, measured.Max(o => o.EmailedAt)),
            LatencySummary.Of(load.AcceptLatency),
            LatencySummary.Between(measured.Select(o => (o.PlacedAt, o.ConfirmedAt))),
            LatencySummary.Between(measured.Select(o => (o.PlacedAt, o.EmailedAt))),
            processes,
            Outcomes.Timeline(measured, first));
        result.Save(options.Output);
        Console.WriteLine($"[{options.Label}] {result.CompletedPerSecond} orders/s to the e-mail; place→Confirmed p50 {result.PlaceToConfirmed.P50Ms} ms, p99 {result.PlaceToConfirmed.P99Ms} ms");
        return 0;
    }

    /// <summary>alice's token (a customer of the realm), renewed before the realm's 5-minute lifetime ends.</summary>
    private sealed class CustomerToken(Uri tokenEndpoint)
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private readonly HttpClient _http = new();
        private string? _token;
        private DateTime _renewAt;

        public async Task<string> GetAsync(CancellationToken cancellation)
        {
            if (_token is not null && DateTime.UtcNow < _renewAt) return _token;
            await _gate.WaitAsync(cancellation);
            try
            {
                if (_token is not null && DateTime.UtcNow < _renewAt) return _token;
                // LOCAL DEVELOPMENT DEFAULTS ONLY: a development user of deploy/keycloak/conveyor-realm.json.
                var response = await _http.PostAsync(tokenEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["grant_type"] = "password", ["client_id"] = "conveyor-cli", ["username"] = "alice", ["password"] = "alice-dev-only", ["scope"] = "openid conveyor-api",
                }), cancellation);
                response.EnsureSuccessStatusCode();
                _token = (await response.Content.ReadFromJsonAsync<JsonElement>(cancellation)).GetProperty("access_token").GetString();
                _renewAt = DateTime.UtcNow.AddMinutes(4);
                return _token!;
            }
            finally
            {
                _gate.Release();
            }
        }
    }
}

/// <summary>What the endpoints recorded about each order: its timeline, its payments, its e-mails.</summary>
public sealed record OrderOutcome(Guid Id, string Status, DateTimeOffset PlacedAt, DateTimeOffset ConfirmedAt, DateTimeOffset EmailedAt, int Payments, int ConfirmationEmails);

public static class Outcomes
{
    public static async Task<Dictionary<Guid, OrderOutcome>> WaitForAsync(BenchOptions options, IReadOnlyList<Guid> ids, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        await using var notifications = new NpgsqlConnection(options.Database(SystemTopology.Notifications));
        await notifications.OpenAsync();
        long mailed;
        do
        {
            await using var count = new NpgsqlCommand("select count(*) from sent_notifications where kind = 'OrderConfirmed' and order_id = any(@ids)", notifications);
            count.Parameters.AddWithValue("ids", ids.ToArray());
            mailed = (long)(await count.ExecuteScalarAsync())!;
            if (mailed >= ids.Count) break;
            await Task.Delay(TimeSpan.FromMilliseconds(500)); // the next look at the database
        }
        while (DateTime.UtcNow < deadline);

        var placed = new Dictionary<Guid, (string Status, DateTimeOffset PlacedAt, DateTimeOffset? ConfirmedAt)>();
        await using (var orders = new NpgsqlConnection(options.Database(SystemTopology.Orders)))
        {
            await orders.OpenAsync();
            await using var query = new NpgsqlCommand("select id, status, placed_at, timeline::text from orders where id = any(@ids)", orders);
            query.Parameters.AddWithValue("ids", ids.ToArray());
            await using var reader = await query.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                placed[reader.GetGuid(0)] = (reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2), ConfirmedAt(reader.GetString(3)));
            }
        }

        var payments = await CountsAsync(options.Database(SystemTopology.Payments), "select order_id, count(*) from payments where order_id = any(@ids) group by order_id", ids);
        var emails = new Dictionary<Guid, (DateTimeOffset SentAt, int Count)>();
        await using (var query = new NpgsqlCommand("select order_id, min(sent_at), count(*) from sent_notifications where kind = 'OrderConfirmed' and order_id = any(@ids) group by order_id", notifications))
        {
            query.Parameters.AddWithValue("ids", ids.ToArray());
            await using var reader = await query.ExecuteReaderAsync();
            while (await reader.ReadAsync()) emails[reader.GetGuid(0)] = (reader.GetFieldValue<DateTimeOffset>(1), (int)reader.GetInt64(2));
        }

        return ids.Where(placed.ContainsKey).ToDictionary(id => id, id => new OrderOutcome(id, placed[id].Status, placed[id].PlacedAt,
            placed[id].ConfirmedAt ?? DateTimeOffset.MinValue, emails.TryGetValue(id, out var mail) ? mail.SentAt : DateTimeOffset.MinValue,
            payments.GetValueOrDefault(id), emails.TryGetValue(id, out var sent) ? sent.Count : 0));
    }

    /// <summary>Every order confirmed, with exactly one payment and one confirmation e-mail: otherwise the bench fails.</summary>
    public static void Verify(IReadOnlyDictionary<Guid, OrderOutcome> outcomes, IReadOnlyList<Guid> ids)
    {
        var problems = new List<string>();
        var missing = ids.Count(id => !outcomes.ContainsKey(id));
        if (missing > 0) problems.Add($"{missing} accepted orders are not in the orders database");
        var notConfirmed = outcomes.Values.Count(o => o.Status != "Confirmed");
        if (notConfirmed > 0) problems.Add($"{notConfirmed} orders did not end Confirmed ({string.Join(", ", outcomes.Values.Where(o => o.Status != "Confirmed").GroupBy(o => o.Status).Select(g => $"{g.Count()} {g.Key}"))})");
        var payments = outcomes.Values.Count(o => o.Payments != 1);
        if (payments > 0) problems.Add($"{payments} orders do not have exactly one payment");
        var emails = outcomes.Values.Count(o => o.ConfirmationEmails != 1);
        if (emails > 0) problems.Add($"{emails} orders do not have exactly one confirmation e-mail");
        if (problems.Count > 0) throw new BenchFailedException(string.Join("; ", problems));
        Console.WriteLine($"    verified: {ids.Count} orders Confirmed, one payment and one confirmation e-mail each");
    }

    public static IReadOnlyList<SecondSample> Timeline(IReadOnlyList<OrderOutcome> orders, DateTimeOffset start)
    {
        int Second(DateTimeOffset at) => (int)Math.Floor((at - start).TotalSeconds);
        var last = orders.Max(o => Second(o.EmailedAt));
        var placed = orders.GroupBy(o => Second(o.PlacedAt)).ToDictionary(g => g.Key, g => g.Count());
        var confirmed = orders.GroupBy(o => Second(o.ConfirmedAt)).ToDictionary(g => g.Key, g => g.Count());
        var emailed = orders.GroupBy(o => Second(o.EmailedAt)).ToDictionary(g => g.Key, g => g.Count());
        return Enumerable.Range(0, last + 1).Select(s => new SecondSample(s, placed.GetValueOrDefault(s), confirmed.GetValueOrDefault(s), emailed.GetValueOrDefault(s))).ToList();
    }

    private static DateTimeOffset? ConfirmedAt(string timeline)
    {
        foreach (var change in JsonDocument.Parse(timeline).RootElement.EnumerateArray())
        {
            var properties = change.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.OrdinalIgnoreCase);
            if (properties.TryGetValue("status", out var status) && status.GetString() == "Confirmed") return properties["at"].GetDateTimeOffset();
        }

        return null;
    }

    private static async Task<Dictionary<Guid, int>> CountsAsync(string connectionString, string sql, IReadOnlyList<Guid> ids)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand(sql, connection);
        query.Parameters.AddWithValue("ids", ids.ToArray());
        await using var reader = await query.ExecuteReaderAsync();
        var counts = new Dictionary<Guid, int>();
        while (await reader.ReadAsync()) counts[reader.GetGuid(0)] = (int)reader.GetInt64(1);
        return counts;
    }
}
