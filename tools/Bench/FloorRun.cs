using System.Collections.Concurrent;
using System.Diagnostics;
using HdrHistogram;
using Npgsql;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Conveyor.Bench;

/// <summary>
/// The floor: what the broker and the database on this machine allow at all for a chain of durable steps, written
/// directly on RabbitMQ.Client and Npgsql — place (a transaction with an outbox row, a persistent confirmed
/// publish, the outbox row deleted), payment (inbox row, payment, outbox row; publish; delete), confirmation
/// (inbox, order update, outbox; publish; delete) and notification (inbox, sent row). No HTTP, no token, no
/// e-mail, three deliveries, 16-byte bodies: far less than the system does per order, which
/// <see cref="BaselineRun"/> does. A reference for the transport and the database, not a target.
/// </summary>
public static class FloorRun
{
    private const string PaymentsQueue = "bench.floor.payments";
    private const string OrdersQueue = "bench.floor.orders";
    private const string NotificationsQueue = "bench.floor.notifications";

    public static async Task<int> RunAsync(BenchOptions options)
    {
        await using var database = NpgsqlDataSource.Create($"{options.BaselineDatabase};Maximum Pool Size=100;Search Path=floor");
        await CreateTablesAsync(database);
        var factory = new ConnectionFactory { Uri = new Uri(options.RabbitMq), ConsumerDispatchConcurrency = 16 };
        await using var connection = await factory.CreateConnectionAsync("conveyor-bench-baseline");
        await DeclareQueuesAsync(connection);
        var publishers = new ChannelPool(connection);
        // No mail: the last stage's commit is the order's completion, recorded under the key its mail would have had.
        var completed = new Arrivals();

        // The three consuming stages, each with its inbox, as the three endpoints.
        var consumers = new List<IChannel>
        {
            await ConsumeAsync(connection, PaymentsQueue, publishers, database, completed, async (tx, order) =>
            {
                await ExecuteAsync(tx, "insert into payments (order_id, authorized_at) values (@order, now())", order);
                return OrdersQueue;
            }),
            await ConsumeAsync(connection, OrdersQueue, publishers, database, completed, async (tx, order) =>
            {
                await ExecuteAsync(tx, "update orders set status = 'Confirmed', confirmed_at = now() where id = @order", order);
                return NotificationsQueue;
            }),
            await ConsumeAsync(connection, NotificationsQueue, publishers, database, completed, async (tx, order) =>
            {
                await ExecuteAsync(tx, "insert into notifications (order_id, sent_at) values (@order, now())", order);
                return null;
            }),
        };

        async Task<Guid?> PlaceAsync(CancellationToken cancellation)
        {
            var order = Guid.CreateVersion7();
            var message = Guid.CreateVersion7();
            await using (var connection = await database.OpenConnectionAsync(cancellation))
            await using (var tx = await connection.BeginTransactionAsync(cancellation))
            {
                await ExecuteAsync(tx, "insert into orders (id, status, placed_at) values (@order, 'Placed', now())", order);
                await ExecuteAsync(tx, "insert into outbox (id, order_id) values (@message, @order)", order, message);
                await tx.CommitAsync(cancellation);
            }

            await publishers.PublishAsync(PaymentsQueue, message, order, cancellation);
            await DeleteFromOutboxAsync(database, message);
            return order;
        }

        await Phase.MeasureAsync(options, "floor", PlaceAsync, completed, ProcessGroup.OfBaseline, Jit.OfThisProcess(), async orders =>
        {
            var outcomes = await WaitForNotificationsAsync(database, orders, TimeSpan.FromMinutes(1));
            return LatencySummary.Between(outcomes.Values.Select(o => (o.Placed, o.Confirmed)));
        });
        foreach (var consumer in consumers) await consumer.CloseAsync();
        publishers.Dispose();
        return 0;
    }

    /// <summary>A consuming stage: inbox row, the stage's own change and the next message's outbox row in one transaction; publish; delete the outbox row; acknowledge.</summary>
    private static async Task<IChannel> ConsumeAsync(IConnection connection, string queue, ChannelPool publishers, NpgsqlDataSource database,
        Arrivals completed, Func<NpgsqlTransaction, Guid, Task<string?>> handle)
    {
        var channel = await connection.CreateChannelAsync();
        await channel.BasicQosAsync(0, 100, false);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            var message = Guid.Parse(delivery.BasicProperties.MessageId!);
            var order = new Guid(delivery.Body.Span);
            var next = Guid.CreateVersion7();
            string? nextQueue;
            await using (var connection = await database.OpenConnectionAsync())
            await using (var tx = await connection.BeginTransactionAsync())
            {
                await using var inbox = new NpgsqlCommand("insert into inbox (endpoint, message_id) values (@endpoint, @message) on conflict do nothing", tx.Connection, tx);
                inbox.Parameters.AddWithValue("endpoint", queue);
                inbox.Parameters.AddWithValue("message", message);
                if (await inbox.ExecuteNonQueryAsync() == 0)
                {
                    await channel.BasicAckAsync(delivery.DeliveryTag, false);
                    return;
                }

                nextQueue = await handle(tx, order);
                if (nextQueue is not null) await ExecuteAsync(tx, "insert into outbox (id, order_id) values (@message, @order)", order, next);
                await tx.CommitAsync();
            }

            if (nextQueue is not null)
            {
                await publishers.PublishAsync(nextQueue, next, order, CancellationToken.None);
                await DeleteFromOutboxAsync(database, next);
            }
            else
            {
                completed.Record(BenchSmtpSink.ConfirmationMessageId(order), Stopwatch.GetTimestamp());
            }

            await channel.BasicAckAsync(delivery.DeliveryTag, false);
        };
        await channel.BasicConsumeAsync(queue, autoAck: false, consumer);
        return channel;
    }

    private static async Task<Dictionary<Guid, (DateTimeOffset Placed, DateTimeOffset Confirmed, DateTimeOffset Notified)>> WaitForNotificationsAsync(NpgsqlDataSource database, IReadOnlyList<Guid> ids, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            await using var query = database.CreateCommand("select o.id, o.placed_at, o.confirmed_at, n.sent_at from orders o join notifications n on n.order_id = o.id where o.id = any(@ids)");
            query.Parameters.AddWithValue("ids", ids.ToArray());
            var found = new Dictionary<Guid, (DateTimeOffset, DateTimeOffset, DateTimeOffset)>();
            await using (var reader = await query.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync()) found[reader.GetGuid(0)] = (reader.GetFieldValue<DateTimeOffset>(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetFieldValue<DateTimeOffset>(3));
            }

            if (found.Count == ids.Count) return found;
            if (DateTime.UtcNow > deadline) throw new BenchFailedException($"the baseline pipeline completed {found.Count} of {ids.Count} orders in {timeout}");
            await Task.Delay(TimeSpan.FromMilliseconds(500)); // the next look at the database
        }
    }

    private static async Task CreateTablesAsync(NpgsqlDataSource database)
    {
        await using var create = database.CreateCommand("""
            drop schema if exists floor cascade;
            create schema floor;
            set search_path to floor;
            create table orders (id uuid primary key, status text not null, placed_at timestamptz not null, confirmed_at timestamptz);
            create table outbox (id uuid primary key, order_id uuid not null);
            create table inbox (endpoint text not null, message_id uuid not null, primary key (endpoint, message_id));
            create table payments (order_id uuid primary key, authorized_at timestamptz not null);
            create table notifications (order_id uuid primary key, sent_at timestamptz not null);
            """);
        await create.ExecuteNonQueryAsync();
    }

    private static async Task DeclareQueuesAsync(IConnection connection)
    {
        await using var channel = await connection.CreateChannelAsync();
        foreach (var queue in new[] { PaymentsQueue, OrdersQueue, NotificationsQueue })
        {
            await channel.QueueDeleteAsync(queue);
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
        }
    }

    private static async Task ExecuteAsync(NpgsqlTransaction tx, string sql, Guid order, Guid? message = null)
    {
        await using var command = new NpgsqlCommand(sql, tx.Connection, tx);
        command.Parameters.AddWithValue("order", order);
        if (message is { } id) command.Parameters.AddWithValue("message", id);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task DeleteFromOutboxAsync(NpgsqlDataSource database, Guid message)
    {
        await using var delete = database.CreateCommand("delete from outbox where id = @message");
        delete.Parameters.AddWithValue("message", message);
        await delete.ExecuteNonQueryAsync();
    }

    /// <summary>Publishing channels with confirms, one per concurrent publisher (a channel is not shared by two publishes).</summary>
    private sealed class ChannelPool(IConnection connection) : IDisposable
    {
        private readonly ConcurrentBag<IChannel> _idle = [];

        public async Task PublishAsync(string queue, Guid message, Guid order, CancellationToken cancellation)
        {
            if (!_idle.TryTake(out var channel))
            {
                channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellation);
            }

            try
            {
                var properties = new BasicProperties { MessageId = message.ToString(), Persistent = true, ContentType = "application/octet-stream" };
                await channel.BasicPublishAsync("", queue, mandatory: true, properties, order.ToByteArray(), cancellation);
            }
            finally
            {
                _idle.Add(channel);
            }
        }

        public void Dispose()
        {
            while (_idle.TryTake(out var channel)) channel.Dispose();
        }
    }
}
