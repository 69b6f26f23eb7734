using System.Net.Http.Json;
using System.Text.RegularExpressions;
using System.Text.Json.Serialization;
using Conveyor.Messages;
using Conveyor.Notifications;
using Conveyor.Topology;
using Integration.Tests.Infrastructure;
using Integration.Tests.System;
using Npgsql;

namespace Integration.Tests.Faults;

/// <summary>Where an order ended, and everything it caused, read from the endpoints' databases and the SMTP server.</summary>
public sealed record OrderOutcome(
    Guid Id,
    string State,
    int Payments,
    string? PaymentStatus,
    int Refunds,
    IReadOnlyDictionary<string, int> Mails,
    string? Reservation);

/// <summary>
/// Counts what really happened to a set of orders: their state (Orders), payments and refunds (Payments), their
/// reservations (Inventory), the e-mails the SMTP server received (by kind, so a duplicate shows), and whether anything is still waiting
/// anywhere (queues, inboxes, outboxes, scheduled retries).
/// </summary>
public static partial class SystemLedger
{
    public const string Confirmed = "OrderConfirmed";
    public const string Cancelled = "OrderCancelled";
    public const string RefundIssued = "RefundIssued";

    /// <summary>Order states that are not Placed: where an order rests unless something moves it on.</summary>
    public static bool HasLeftPlaced(string state) => state != "Placed" && state != "(unknown)";

    public static async Task<IReadOnlyDictionary<Guid, string>> StatesAsync(IReadOnlyCollection<Guid> orders)
    {
        var states = orders.ToDictionary(id => id, _ => "(unknown)");
        await using var connection = await OpenAsync(RunningSystem.OrdersDatabase);
        await using var command = new NpgsqlCommand("select id, status, cancellation_reason from orders where id = any(@ids)", connection);
        command.Parameters.AddWithValue("ids", orders.ToArray());
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var status = reader.GetString(1);
            states[reader.GetGuid(0)] = reader.IsDBNull(2) ? status : $"{status}({(CancellationReason)reader.GetInt32(2)})";
        }

        return states;
    }

    public static async Task<IReadOnlyList<OrderOutcome>> OutcomesAsync(IReadOnlyCollection<PlacedOrder> orders)
    {
        var ids = orders.Select(o => o.Id).ToArray();
        var states = await StatesAsync(ids);
        var payments = new Dictionary<Guid, (int Count, string Status)>();
        var refunds = new Dictionary<Guid, int>();
        await using (var connection = await OpenAsync(RunningSystem.PaymentsDatabase))
        {
            await using (var command = new NpgsqlCommand("select order_id, count(*)::int, max(status) from payments where order_id = any(@ids) group by order_id", connection))
            {
                command.Parameters.AddWithValue("ids", ids);
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync()) payments[reader.GetGuid(0)] = (reader.GetInt32(1), reader.GetString(2));
            }

            await using (var command = new NpgsqlCommand("select order_id, count(*)::int from refunds where order_id = any(@ids) group by order_id", connection))
            {
                command.Parameters.AddWithValue("ids", ids);
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync()) refunds[reader.GetGuid(0)] = reader.GetInt32(1);
            }
        }

        var reservations = new Dictionary<Guid, string>();
        await using (var connection = await OpenAsync(SystemDatabases.ConnectionTo(SystemTopology.Inventory)))
        await using (var command = new NpgsqlCommand("select order_id, status from reservations where order_id = any(@ids)", connection))
        {
            command.Parameters.AddWithValue("ids", ids);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync()) reservations[reader.GetGuid(0)] = reader.GetString(1);
        }

        var mails = await MailsByOrderAsync();
        return orders.Select(order =>
        {
            var paid = payments.GetValueOrDefault(order.Id);
            var received = mails.GetValueOrDefault(CustomerNotification.ShortId(order.Id)) ?? [];
            return new OrderOutcome(order.Id, states[order.Id], paid.Count, paid.Status, refunds.GetValueOrDefault(order.Id),
                received.GroupBy(KindOf).ToDictionary(g => g.Key, g => g.Count()), reservations.GetValueOrDefault(order.Id));
        }).ToList();
    }

    /// <summary>The kind of a customer e-mail, from its subject (see Endpoints/Notifications).</summary>
    private static string KindOf(string subject) =>
        subject.Contains("is confirmed", StringComparison.Ordinal) ? Confirmed
        : subject.Contains("was cancelled", StringComparison.Ordinal) ? Cancelled
        : subject.StartsWith("Refund issued", StringComparison.Ordinal) ? RefundIssued
        : subject;

    private sealed record MailSummary([property: JsonPropertyName("subject")] string Subject);

    private sealed record MailPage(
        [property: JsonPropertyName("results")] MailSummary[] Results,
        [property: JsonPropertyName("pageCount")] int PageCount);

    /// <summary>
    /// Every customer e-mail the SMTP server holds, by the order number in its subject: what arrived over SMTP,
    /// duplicates included. (All of a customer's orders mail the one verified address, so the recipient tells nothing.)
    /// </summary>
    private static async Task<Dictionary<string, List<string>>> MailsByOrderAsync()
    {
        using var http = new HttpClient { BaseAddress = TestEnvironment.SmtpApi };
        var byOrder = new Dictionary<string, List<string>>();
        for (var page = 1; ; page++)
        {
            var mails = (await http.GetFromJsonAsync<MailPage>($"/api/messages?page={page}&pageSize=2000"))!;
            foreach (var mail in mails.Results)
            {
                if (OrderNumber().Match(mail.Subject) is not { Success: true } number) continue;
                if (!byOrder.TryGetValue(number.Groups[1].Value, out var list)) byOrder[number.Groups[1].Value] = list = [];
                list.Add(mail.Subject);
            }

            if (page >= mails.PageCount) return byOrder;
        }
    }

    [GeneratedRegex(@"\border ([0-9A-F]{12})\b")]
    private static partial Regex OrderNumber();

    /// <summary>
    /// What still waits somewhere: messages in the endpoints' queues, unhandled inbox rows, unsent outbox rows,
    /// scheduled retries. Scheduled payment deadlines are not counted: they are due later by design.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, long>> WaitingAsync()
    {
        var waiting = new Dictionary<string, long>();
        await using (var broker = await Broker.ConnectAsync())
        {
            foreach (var queue in SystemTopology.Endpoints.Select(e => e.Queue).Concat(SystemTopology.PlatformQueues))
            {
                waiting[$"queue {queue}"] = await broker.CountAsync(queue);
            }
        }

        foreach (var endpoint in SystemTopology.Endpoints)
        {
            var database = SystemDatabases.ConnectionTo(endpoint);
            if (endpoint.Runtime == Runtime.Node)
            {
                // Inventory's own tables (Endpoints/Inventory/migrations): it handles a delivery before acknowledging it,
                // so nothing waits in an inbox.
                waiting[$"{endpoint.Name} delayed retries"] = await Sql.ScalarAsync<long>(database, "select count(*) from delayed_retries");
                waiting[$"{endpoint.Name} outbox"] = await Sql.ScalarAsync<long>(database, "select count(*) from outbox");
                continue;
            }

            waiting[$"{endpoint.Name} inbox"] = await Sql.ScalarAsync<long>(database,
                "select count(*) from wolverine.wolverine_incoming_envelopes where status = 'Incoming'");
            waiting[$"{endpoint.Name} scheduled retries"] = await Sql.ScalarAsync<long>(database,
                "select count(*) from wolverine.wolverine_incoming_envelopes where status = 'Scheduled' and message_type not like '%PaymentDeadlinePassed%'");
            waiting[$"{endpoint.Name} outbox"] = await Sql.ScalarAsync<long>(database, "select count(*) from wolverine.wolverine_outgoing_envelopes");
        }

        return waiting;
    }

    /// <summary>
    /// Where Inventory's books do not balance: a SKU whose reserved or sold count is not what its reservations add up
    /// to. Both change in the transaction that changes a reservation, so a message counted twice, or a change applied
    /// without its reservation, shows here.
    /// </summary>
    public static async Task<IReadOnlyList<string>> UnbalancedStockAsync()
    {
        var unbalanced = new List<string>();
        await using var connection = await OpenAsync(SystemDatabases.ConnectionTo(SystemTopology.Inventory));
        await using var command = new NpgsqlCommand("""
            with held as (
                select line->>'sku' as sku,
                       sum(case when r.status = 'Reserved' then (line->>'quantity')::int else 0 end) as reserved,
                       sum(case when r.status = 'Sold' then (line->>'quantity')::int else 0 end) as sold
                from reservations r, jsonb_array_elements(r.lines) line
                group by line->>'sku')
            select s.sku, s.reserved, s.sold, coalesce(h.reserved, 0), coalesce(h.sold, 0)
            from stock s left join held h on h.sku = s.sku
            where s.reserved <> coalesce(h.reserved, 0) or s.sold <> coalesce(h.sold, 0)
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            unbalanced.Add($"{reader.GetString(0)}: {reader.GetInt32(1)} reserved and {reader.GetInt32(2)} sold, its reservations say {reader.GetInt64(3)} and {reader.GetInt64(4)}");
        }

        return unbalanced;
    }

    private static async Task<NpgsqlConnection> OpenAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return connection;
    }
}
