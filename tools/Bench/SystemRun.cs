using System.Text.Json;
using Conveyor.Topology;
using Npgsql;

namespace Conveyor.Bench;

/// <summary>
/// Orders through the real system: placed over the authenticated HTTP API, complete when the confirmation e-mail
/// reached the bench's SMTP sink; each order's status, payment and place→Confirmed read back from the endpoints'
/// databases.
/// </summary>
public static class SystemRun
{
    public static async Task<int> RunAsync(BenchOptions options)
    {
        using var client = new OrderClient(options, options.OrdersApis);
        await using var sink = new BenchSmtpSink(options.SinkPort);
        await Phase.MeasureAsync(options, "system", client.PlaceAsync, sink.Received, () => ProcessGroup.Discover(Path.Combine(".artifacts", "run")), Jit.OfEndpoints(options.Instances), async orders =>
        {
            var outcomes = await Outcomes.ReadAsync(options, orders);
            Outcomes.Verify(outcomes, orders);
            return LatencySummary.Between(outcomes.Values.Select(o => (o.PlacedAt, o.ConfirmedAt)));
        });
        return 0;
    }
}

/// <summary>What the endpoints recorded about each order: its timeline, its payments, its e-mails.</summary>
public sealed record OrderOutcome(Guid Id, string Status, DateTimeOffset PlacedAt, DateTimeOffset ConfirmedAt, int Payments);

public static class Outcomes
{
    public static async Task<Dictionary<Guid, OrderOutcome>> ReadAsync(BenchOptions options, IReadOnlyList<Guid> ids)
    {
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
        return ids.Where(placed.ContainsKey).ToDictionary(id => id, id => new OrderOutcome(id, placed[id].Status, placed[id].PlacedAt,
            placed[id].ConfirmedAt ?? DateTimeOffset.MinValue, payments.GetValueOrDefault(id)));
    }

    /// <summary>Every order confirmed, with exactly one payment (the e-mails are counted at the sink): otherwise the bench fails.</summary>
    public static void Verify(IReadOnlyDictionary<Guid, OrderOutcome> outcomes, IReadOnlyList<Guid> ids)
    {
        var problems = new List<string>();
        var missing = ids.Count(id => !outcomes.ContainsKey(id));
        if (missing > 0) problems.Add($"{missing} accepted orders are not in the orders database");
        var notConfirmed = outcomes.Values.Count(o => o.Status != "Confirmed");
        if (notConfirmed > 0) problems.Add($"{notConfirmed} orders did not end Confirmed ({string.Join(", ", outcomes.Values.Where(o => o.Status != "Confirmed").GroupBy(o => o.Status).Select(g => $"{g.Count()} {g.Key}"))})");
        var payments = outcomes.Values.Count(o => o.Payments != 1);
        if (payments > 0) problems.Add($"{payments} orders do not have exactly one payment");
        if (problems.Count > 0) throw new BenchFailedException(string.Join("; ", problems));
        Console.WriteLine($"    verified: {ids.Count} orders Confirmed, one payment each");
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

    internal static async Task<Dictionary<Guid, int>> CountsAsync(string connectionString, string sql, IReadOnlyList<Guid> ids)
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
