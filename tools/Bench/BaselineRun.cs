using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Conveyor.Messages;
using Conveyor.Topology;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MimeKit;
using Npgsql;
using NpgsqlTypes;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Conveyor.Bench;

/// <summary>
/// The equal-work baseline: per order what the system does, written by hand on ASP.NET Core, RabbitMQ.Client, Npgsql
/// and MailKit, without Wolverine or EF Core. The same authenticated <c>POST /orders</c> (JwtBearer against the same
/// provider, the same checks), the same message bodies (the records of Conveyor.Messages as JSON), the same routing
/// (an exchange per message type, a queue per endpoint bound as the topology says: seven deliveries per order), an
/// inbox and an outbox per endpoint, a durable payment deadline polled for, the provider ledger's read and write,
/// stock reserved then sold, and the confirmation sent with MailKit to the same sink. What it leaves out: audit copies
/// (compare it with the system's audit-off run), traces, metrics and heartbeats.
/// </summary>
public static class BaselineRun
{
    /// <summary>Orders' payment deadline (Orders:PaymentDeadline's default) and how often the endpoints look for due scheduled messages (Hosting/EndpointPersistence.cs).</summary>
    private static readonly TimeSpan PaymentDeadline = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan DeadlinePolling = TimeSpan.FromSeconds(1);

    public static async Task<int> RunAsync(BenchOptions options)
    {
        await using var sink = new BenchSmtpSink(options.SinkPort);
        await using var database = NpgsqlDataSource.Create($"{options.BaselineDatabase};Maximum Pool Size=80");
        await CreateTablesAsync(database);
        var factory = new ConnectionFactory { Uri = new Uri(options.RabbitMq), ConsumerDispatchConcurrency = 16 };
        await using var connection = await factory.CreateConnectionAsync("conveyor-bench-baseline");
        var bus = await Bus.CreateAsync(connection, factory.UserName);
        await using var mailer = new Mailer(options.SinkPort);
        var pipeline = new Pipeline(database, bus, mailer);
        var consumers = new List<IChannel>();
        foreach (var endpoint in SystemTopology.BusinessEndpoints) consumers.Add(await bus.ConsumeAsync(endpoint, pipeline.HandleAsync));
        using var stop = new CancellationTokenSource();
        var deadlines = pipeline.PollDeadlinesAsync(stop.Token);
        await using var api = await StartApiAsync(options, pipeline);

        using var client = new OrderClient(options, [new Uri($"http://127.0.0.1:{options.BaselinePort}")]);
        await Phase.MeasureAsync(options, "baseline", client.PlaceAsync, sink.Received, ProcessGroup.OfBaseline, Jit.OfThisProcess(), pipeline.VerifyAsync);

        await stop.CancelAsync();
        await deadlines;
        foreach (var consumer in consumers) await consumer.CloseAsync();
        if (pipeline.Problems.Count > 0) throw new BenchFailedException(string.Join("; ", pipeline.Problems.Take(5)));
        return 0;
    }

    private static async Task<WebApplication> StartApiAsync(BenchOptions options, Pipeline pipeline)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://127.0.0.1:{options.BaselinePort}");
        // Hosting/Authentication.cs's settings: the provider's keys, issuer, audience and lifetime checked.
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(jwt =>
        {
            jwt.Authority = new Uri(options.TokenEndpoint, "/realms/conveyor").ToString();
            jwt.Audience = "conveyor-api";
            jwt.RequireHttpsMetadata = false;
            jwt.MapInboundClaims = false;
            jwt.TokenValidationParameters.NameClaimType = "preferred_username";
            jwt.TokenValidationParameters.RoleClaimType = "roles";
            jwt.TokenValidationParameters.ClockSkew = TimeSpan.FromSeconds(30);
        });
        builder.Services.AddAuthorizationBuilder().AddPolicy("customer", policy => policy.RequireRole("customer"));
        builder.Services.AddProblemDetails();
        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapPost("/orders", pipeline.PlaceAsync).RequireAuthorization("customer");
        await app.StartAsync();
        return app;
    }

    private static async Task CreateTablesAsync(NpgsqlDataSource database)
    {
        var sql = new StringBuilder();
        foreach (var endpoint in SystemTopology.BusinessEndpoints)
        {
            sql.AppendLine(CultureInfo.InvariantCulture, $"""
                drop schema if exists {endpoint.Name} cascade;
                create schema {endpoint.Name};
                create table {endpoint.Name}.inbox (message_id uuid primary key, received_at timestamptz not null default now());
                create table {endpoint.Name}.outbox (id uuid primary key, exchange text not null, type text not null, body jsonb not null);
                """);
        }

        sql.AppendLine("""
            create table orders.orders (id uuid primary key, customer_id text not null, idempotency_key text not null, status text not null,
              payment text not null default 'Pending', payment_id uuid, stock text not null default 'Pending', currency text not null,
              total numeric not null, lines jsonb not null, placed_at timestamptz not null, timeline jsonb not null, unique (customer_id, idempotency_key));
            create table orders.deadlines (order_id uuid primary key, due_at timestamptz not null);
            create table payments.payments (id uuid primary key, order_id uuid not null unique, amount numeric not null, currency text not null,
              status text not null, provider_reference text not null, authorized_at timestamptz not null);
            create table payments.provider_charges (idempotency_key uuid primary key, reference text not null, amount numeric not null);
            create table inventory.stock (sku text primary key, available int not null check (available >= 0), reserved int not null default 0, sold int not null default 0);
            create table inventory.reservations (order_id uuid not null, sku text not null, quantity int not null, state text not null, primary key (order_id, sku));
            insert into inventory.stock (sku, available) values ('BOOK-DDD', 100000000);
            create table notifications.orders (order_id uuid primary key, email text not null, currency text not null, total numeric not null, lines jsonb not null);
            create table notifications.sent (order_id uuid not null, kind text not null, message_id text not null, sent_at timestamptz not null, primary key (order_id, kind));
            """);
        await using var create = database.CreateCommand(sql.ToString());
        await create.ExecuteNonQueryAsync();
    }

    /// <summary>A message to publish once its transaction committed: the exchange of its type and its JSON body.</summary>
    private sealed record Outgoing(Guid Id, string Exchange, string Type, byte[] Body)
    {
        public static Outgoing Of<T>(T message) where T : notnull =>
            new(Guid.CreateVersion7(), Bus.ExchangeOf(typeof(T)), typeof(T).Name, JsonSerializer.SerializeToUtf8Bytes(message, MessageJson.Options));
    }

    /// <summary>The handlers, each a transaction: its inbox row, its change, its outgoing messages' outbox rows.</summary>
    private sealed class Pipeline(NpgsqlDataSource database, Bus bus, Mailer mailer)
    {
        private static readonly Dictionary<string, Type> Types = MessageJson.MessageTypes.ToDictionary(t => t.Name);
        /// <summary>Prices from the catalog file Orders reads (deploy/catalog.json), never from the request.</summary>
        private static readonly Dictionary<string, decimal> Catalog = JsonDocument.Parse(File.ReadAllText(Path.Combine("deploy", "catalog.json")))
            .RootElement.GetProperty("items").EnumerateArray().ToDictionary(i => i.GetProperty("sku").GetString()!, i => i.GetProperty("unitPrice").GetDecimal());

        public ConcurrentQueue<string> Problems { get; } = new();

        public sealed record PlaceRequest(string? Currency, string? PaymentToken, List<LineRequest>? Lines);

        public sealed record LineRequest(string? Sku, int? Quantity);

        public async Task<IResult> PlaceAsync(HttpContext http, PlaceRequest request)
        {
            var key = http.Request.Headers["Idempotency-Key"].ToString();
            var customer = http.User.FindFirst("sub")?.Value;
            var email = http.User.FindFirst("email")?.Value ?? "alice@conveyor.example";
            if (string.IsNullOrEmpty(key) || customer is null || request.Lines is not { Count: > 0 } || string.IsNullOrWhiteSpace(request.PaymentToken)
                || request.Lines.Any(l => l.Sku is null || !Catalog.ContainsKey(l.Sku) || l.Quantity is not (> 0 and <= 10_000)))
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["request"] = ["The order is not valid."] });
            }

            var id = Guid.CreateVersion7();
            var now = DateTimeOffset.UtcNow;
            var lines = request.Lines.Select(l => new OrderLine(l.Sku!, l.Quantity!.Value, Catalog[l.Sku!])).ToList();
            var placed = new OrderPlaced(id, customer, email, "EUR", lines, lines.Sum(l => l.LineTotal), request.PaymentToken, now);
            var sent = await InTransactionAsync(SystemTopology.Orders.Name, null, async tx =>
            {
                await using var insert = Command(tx, """
                    insert into orders.orders (id, customer_id, idempotency_key, status, currency, total, lines, placed_at, timeline)
                    values (@id, @customer, @key, 'Placed', 'EUR', @total, @lines, @at, jsonb_build_array(jsonb_build_object('status', 'Placed', 'at', @at)))
                    on conflict (customer_id, idempotency_key) do nothing
                    """, ("id", id), ("customer", customer), ("key", key), ("total", placed.Total), ("at", now));
                insert.Parameters.Add(new NpgsqlParameter("lines", NpgsqlDbType.Jsonb) { Value = JsonSerializer.Serialize(lines, MessageJson.Options) });
                if (await insert.ExecuteNonQueryAsync() == 0) return [];
                await using var deadline = Command(tx, "insert into orders.deadlines (order_id, due_at) values (@id, @due)", ("id", id), ("due", now + PaymentDeadline));
                await deadline.ExecuteNonQueryAsync();
                return [Outgoing.Of(placed)];
            });
            if (sent is null) return Results.Problem("The order was not stored.");
            http.Response.Headers.Location = $"/orders/{id}";
            return Results.Json(new { id, status = "Placed" }, statusCode: StatusCodes.Status202Accepted);
        }

        public async Task HandleAsync(EndpointTopology endpoint, Guid messageId, string type, ReadOnlyMemory<byte> body)
        {
            var message = JsonSerializer.Deserialize(body.Span, Types[type], MessageJson.Options)!;
            if (!Handlers.TryGetValue((endpoint, message.GetType()), out var handle)) throw new InvalidOperationException($"{endpoint.Name} has no handler for {type} in the baseline");
            await InTransactionAsync(endpoint.Name, messageId, tx => handle(this, tx, message));
        }

        /// <summary>What each endpoint does with each message of the happy path, as the topology names them.</summary>
        private static readonly Dictionary<(EndpointTopology, Type), Func<Pipeline, NpgsqlTransaction, object, Task<List<Outgoing>>>> Handlers = new()
        {
            [(SystemTopology.Payments, typeof(OrderPlaced))] = (p, tx, m) => p.ChargeAsync(tx, (OrderPlaced)m),
            [(SystemTopology.Inventory, typeof(OrderPlaced))] = (_, tx, m) => ReserveAsync(tx, (OrderPlaced)m),
            [(SystemTopology.Inventory, typeof(OrderConfirmed))] = (_, tx, m) => SellAsync(tx, (OrderConfirmed)m),
            [(SystemTopology.Notifications, typeof(OrderPlaced))] = (_, tx, m) => RememberAsync(tx, (OrderPlaced)m),
            [(SystemTopology.Notifications, typeof(OrderConfirmed))] = (p, tx, m) => p.NotifyAsync(tx, (OrderConfirmed)m),
            [(SystemTopology.Orders, typeof(PaymentAuthorized))] = (_, tx, m) =>
                ConfirmIfReadyAsync(tx, ((PaymentAuthorized)m).OrderId, "payment = 'Authorized', payment_id = @payment", ((PaymentAuthorized)m).PaymentId),
            [(SystemTopology.Orders, typeof(StockReserved))] = (_, tx, m) => ConfirmIfReadyAsync(tx, ((StockReserved)m).OrderId, "stock = 'Reserved'", null),
        };

        private async Task<List<Outgoing>> ChargeAsync(NpgsqlTransaction tx, OrderPlaced placed)
        {
            var paymentId = PaymentIds.PaymentFor(placed.OrderId);
            await using (var existing = Command(tx, "select status from payments.payments where order_id = @order", ("order", placed.OrderId)))
            {
                if (await existing.ExecuteScalarAsync() is not null) return [];
            }

            // The provider's books, outside the payment's transaction as the simulator's PostgresProviderLedger keeps them.
            var reference = $"sim_{paymentId:N}";
            await using (var ledger = database.CreateCommand("select reference from payments.provider_charges where idempotency_key = @key"))
            {
                ledger.Parameters.AddWithValue("key", paymentId);
                if (await ledger.ExecuteScalarAsync() is null)
                {
                    await using var charge = database.CreateCommand("insert into payments.provider_charges (idempotency_key, reference, amount) values (@key, @reference, @amount) on conflict do nothing");
                    charge.Parameters.AddWithValue("key", paymentId);
                    charge.Parameters.AddWithValue("reference", reference);
                    charge.Parameters.AddWithValue("amount", placed.Total);
                    await charge.ExecuteNonQueryAsync();
                }
            }

            var now = DateTimeOffset.UtcNow;
            await using var insert = Command(tx, "insert into payments.payments (id, order_id, amount, currency, status, provider_reference, authorized_at) values (@id, @order, @amount, @currency, 'Authorized', @reference, @at)",
                ("id", paymentId), ("order", placed.OrderId), ("amount", placed.Total), ("currency", placed.Currency), ("reference", reference), ("at", now));
            await insert.ExecuteNonQueryAsync();
            return [Outgoing.Of(new PaymentAuthorized(placed.OrderId, paymentId, placed.Total, placed.Currency, reference, now))];
        }

        private static async Task<List<Outgoing>> ReserveAsync(NpgsqlTransaction tx, OrderPlaced placed)
        {
            var lines = placed.Lines.GroupBy(l => l.Sku).Select(g => new StockLine(g.Key, g.Sum(l => l.Quantity))).OrderBy(l => l.Sku, StringComparer.Ordinal).ToList();
            foreach (var line in lines)
            {
                await using var reserve = Command(tx, "update inventory.stock set available = available - @quantity, reserved = reserved + @quantity where sku = @sku and available >= @quantity",
                    ("sku", line.Sku), ("quantity", line.Quantity));
                if (await reserve.ExecuteNonQueryAsync() == 0) throw new InvalidOperationException($"{line.Sku} is out of stock in the baseline");
                await using var hold = Command(tx, "insert into inventory.reservations (order_id, sku, quantity, state) values (@order, @sku, @quantity, 'Reserved')",
                    ("order", placed.OrderId), ("sku", line.Sku), ("quantity", line.Quantity));
                await hold.ExecuteNonQueryAsync();
            }

            return [Outgoing.Of(new StockReserved(placed.OrderId, lines, DateTimeOffset.UtcNow))];
        }

        private static async Task<List<Outgoing>> SellAsync(NpgsqlTransaction tx, OrderConfirmed confirmed)
        {
            await using var sell = Command(tx, """
                with sold as (update inventory.reservations set state = 'Sold' where order_id = @order and state = 'Reserved' returning sku, quantity)
                update inventory.stock s set reserved = s.reserved - sold.quantity, sold = s.sold + sold.quantity from sold where s.sku = sold.sku
                """, ("order", confirmed.OrderId));
            await sell.ExecuteNonQueryAsync();
            return [];
        }

        private static async Task<List<Outgoing>> RememberAsync(NpgsqlTransaction tx, OrderPlaced placed)
        {
            await using var insert = Command(tx, "insert into notifications.orders (order_id, email, currency, total, lines) values (@order, @email, @currency, @total, @lines) on conflict do nothing",
                ("order", placed.OrderId), ("email", placed.CustomerEmail), ("currency", placed.Currency), ("total", placed.Total));
            insert.Parameters.Add(new NpgsqlParameter("lines", NpgsqlDbType.Jsonb) { Value = JsonSerializer.Serialize(placed.Lines, MessageJson.Options) });
            await insert.ExecuteNonQueryAsync();
            return [];
        }

        private async Task<List<Outgoing>> NotifyAsync(NpgsqlTransaction tx, OrderConfirmed confirmed)
        {
            string email, currency, lines;
            decimal total;
            await using (var summary = Command(tx, "select email, currency, total, lines::text, exists (select 1 from notifications.sent where order_id = @order and kind = 'OrderConfirmed') from notifications.orders where order_id = @order", ("order", confirmed.OrderId)))
            await using (var reader = await summary.ExecuteReaderAsync())
            {
                // OrderPlaced's summary not here yet: a retry finds it, as Notifications' does.
                if (!await reader.ReadAsync()) throw new InvalidOperationException($"order {confirmed.OrderId} is not known to notifications yet");
                if (reader.GetBoolean(4)) return [];
                (email, currency, total, lines) = (reader.GetString(0), reader.GetString(1), reader.GetDecimal(2), reader.GetString(3));
            }

            var messageId = BenchSmtpSink.ConfirmationMessageId(confirmed.OrderId);
            await using (var sent = Command(tx, "insert into notifications.sent (order_id, kind, message_id, sent_at) values (@order, 'OrderConfirmed', @message, now())", ("order", confirmed.OrderId), ("message", messageId)))
            {
                await sent.ExecuteNonQueryAsync();
            }

            // As Notifications does: sent inside the transaction, before the commit.
            var body = new StringBuilder().AppendLine("Hello,").AppendLine()
                .AppendLine(CultureInfo.InvariantCulture, $"your order {confirmed.OrderId} is confirmed and your payment has been received.").AppendLine();
            foreach (var line in JsonSerializer.Deserialize<List<OrderLine>>(lines, MessageJson.Options)!)
            {
                body.AppendLine(CultureInfo.InvariantCulture, $"  {line.Quantity} x {line.Sku} at {line.UnitPrice:0.00} {currency}");
            }

            body.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Total: {total:0.00} {currency}").AppendLine().AppendLine("Thank you for your order.");
            await mailer.SendAsync(email, $"Your order {confirmed.OrderId.ToString("N")[^12..].ToUpperInvariant()} is confirmed", body.ToString(), messageId);
            return [];
        }

        private static async Task<List<Outgoing>> ConfirmIfReadyAsync(NpgsqlTransaction tx, Guid order, string change, Guid? payment)
        {
            // The row lock orders the two halves: whichever commits second sees the other's and confirms.
            await using var update = Command(tx, $"update orders.orders set {change} where id = @order returning payment = 'Authorized' and stock = 'Reserved' and status = 'Placed', payment_id", ("order", order));
            if (payment is { } paymentId) update.Parameters.AddWithValue("payment", paymentId);
            Guid? confirmedPayment = null;
            await using (var reader = await update.ExecuteReaderAsync())
            {
                if (await reader.ReadAsync() && reader.GetBoolean(0)) confirmedPayment = reader.GetGuid(1);
            }

            if (confirmedPayment is not { } id) return [];
            var now = DateTimeOffset.UtcNow;
            await using var confirm = Command(tx, "update orders.orders set status = 'Confirmed', timeline = timeline || jsonb_build_array(jsonb_build_object('status', 'Confirmed', 'at', @at)) where id = @order",
                ("order", order), ("at", now));
            await confirm.ExecuteNonQueryAsync();
            return [Outgoing.Of(new OrderConfirmed(order, id, now))];
        }

        /// <summary>Every <see cref="DeadlinePolling"/>: the due deadlines, each checked against its order (a confirmed one is left alone).</summary>
        public async Task PollDeadlinesAsync(CancellationToken stop)
        {
            using var timer = new PeriodicTimer(DeadlinePolling);
            try
            {
                while (await timer.WaitForNextTickAsync(stop))
                {
                    await using var connection = await database.OpenConnectionAsync(stop);
                    await using var tx = await connection.BeginTransactionAsync(stop);
                    await using var due = Command(tx, """
                        with due as (delete from orders.deadlines where order_id in (select order_id from orders.deadlines where due_at <= now() limit 500 for update skip locked) returning order_id)
                        select o.id, o.status from due join orders.orders o on o.id = due.order_id
                        """);
                    await using (var reader = await due.ExecuteReaderAsync(stop))
                    {
                        while (await reader.ReadAsync(stop))
                        {
                            if (reader.GetString(1) == "Placed") Problems.Enqueue($"order {reader.GetGuid(0)} reached its payment deadline unconfirmed");
                        }
                    }

                    await tx.CommitAsync(stop);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The run is over.
            }
        }

        /// <summary>
        /// The inbox row (for a delivery), the handler's change and its outbox rows in one transaction; after the commit
        /// each outgoing message is published (confirmed) and its outbox row deleted. Null when the delivery was a repeat.
        /// </summary>
        private async Task<List<Outgoing>?> InTransactionAsync(string endpoint, Guid? messageId, Func<NpgsqlTransaction, Task<List<Outgoing>>> handle)
        {
            List<Outgoing> outgoing;
            await using (var connection = await database.OpenConnectionAsync())
            await using (var tx = await connection.BeginTransactionAsync())
            {
                if (messageId is { } id)
                {
                    await using var inbox = Command(tx, $"insert into {endpoint}.inbox (message_id) values (@id) on conflict do nothing", ("id", id));
                    if (await inbox.ExecuteNonQueryAsync() == 0) return null;
                }

                outgoing = await handle(tx);
                foreach (var message in outgoing)
                {
                    await using var row = Command(tx, $"insert into {endpoint}.outbox (id, exchange, type, body) values (@id, @exchange, @type, @body)",
                        ("id", message.Id), ("exchange", message.Exchange), ("type", message.Type));
                    row.Parameters.Add(new NpgsqlParameter("body", NpgsqlDbType.Jsonb) { Value = message.Body });
                    await row.ExecuteNonQueryAsync();
                }

                await tx.CommitAsync();
            }

            if (outgoing.Count == 0) return outgoing;
            foreach (var message in outgoing) await bus.PublishAsync(message);
            await using var delete = database.CreateCommand($"delete from {endpoint}.outbox where id = any(@ids)");
            delete.Parameters.AddWithValue("ids", outgoing.Select(m => m.Id).ToArray());
            await delete.ExecuteNonQueryAsync();
            return outgoing;
        }

        public async Task<LatencySummary> VerifyAsync(IReadOnlyList<Guid> orders)
        {
            await using var query = database.CreateCommand("""
                select o.id, o.status, o.placed_at, (o.timeline -> 1 ->> 'at')::timestamptz, (select count(*) from payments.payments p where p.order_id = o.id)
                from orders.orders o where o.id = any(@ids)
                """);
            query.Parameters.AddWithValue("ids", orders.ToArray());
            var spans = new List<(DateTimeOffset, DateTimeOffset)>();
            var wrong = 0;
            await using (var reader = await query.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    if (reader.GetString(1) != "Confirmed" || reader.GetInt64(4) != 1) wrong++;
                    else spans.Add((reader.GetFieldValue<DateTimeOffset>(2), reader.GetFieldValue<DateTimeOffset>(3)));
                }
            }

            if (wrong > 0 || spans.Count != orders.Count) throw new BenchFailedException($"of {orders.Count} baseline orders {orders.Count - spans.Count} are not Confirmed with one payment");
            Console.WriteLine($"    verified: {orders.Count} orders Confirmed, one payment each");
            return LatencySummary.Between(spans);
        }

        private static NpgsqlCommand Command(NpgsqlTransaction tx, string sql, params (string Name, object Value)[] parameters)
        {
            var command = new NpgsqlCommand(sql, tx.Connection, tx);
            foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
            return command;
        }
    }

    /// <summary>The topology's routing in the bench vhost, prefixed <c>baseline.</c>; confirmed, persistent publishes.</summary>
    private sealed class Bus(IConnection connection, string user)
    {
        private readonly ConcurrentBag<IChannel> _idle = [];

        public static string ExchangeOf(Type message) => $"baseline.{SystemTopology.ExchangeFor(message)}";

        private static string QueueOf(EndpointTopology endpoint) => $"baseline.{endpoint.Queue}";

        public static async Task<Bus> CreateAsync(IConnection connection, string user)
        {
            await using var channel = await connection.CreateChannelAsync();
            foreach (var endpoint in SystemTopology.BusinessEndpoints)
            {
                await channel.QueueDeleteAsync(QueueOf(endpoint));
                await channel.QueueDeclareAsync(QueueOf(endpoint), durable: true, exclusive: false, autoDelete: false, new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
                foreach (var type in endpoint.SubscribesTo.Concat(endpoint.Receives))
                {
                    await channel.ExchangeDeclareAsync(ExchangeOf(type), ExchangeType.Fanout, durable: true);
                    await channel.QueueBindAsync(QueueOf(endpoint), ExchangeOf(type), "");
                }
            }

            return new Bus(connection, user);
        }

        public async Task<IChannel> ConsumeAsync(EndpointTopology endpoint, Func<EndpointTopology, Guid, string, ReadOnlyMemory<byte>, Task> handle)
        {
            var channel = await connection.CreateChannelAsync();
            await channel.BasicQosAsync(0, 100, false);
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += async (_, delivery) =>
            {
                try
                {
                    var type = Encoding.UTF8.GetString((byte[])delivery.BasicProperties.Headers!["message-type"]!);
                    await handle(endpoint, Guid.Parse(delivery.BasicProperties.MessageId!), type, delivery.Body);
                    await channel.BasicAckAsync(delivery.DeliveryTag, false);
                }
                catch (Exception ex) when (ex is InvalidOperationException or NpgsqlException)
                {
                    // A retry, as the endpoints' first retries do (a lock timeout, a summary not stored yet).
                    await channel.BasicNackAsync(delivery.DeliveryTag, false, requeue: true);
                }
            };
            await channel.BasicConsumeAsync(QueueOf(endpoint), autoAck: false, consumer);
            return channel;
        }

        public async Task PublishAsync(Outgoing message)
        {
            if (!_idle.TryTake(out var channel))
            {
                channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
            }

            try
            {
                var properties = new BasicProperties
                {
                    MessageId = message.Id.ToString(), Persistent = true, ContentType = "application/json", UserId = user,
                    Timestamp = new AmqpTimestamp(DateTimeOffset.UtcNow.ToUnixTimeSeconds()),
                    Headers = new Dictionary<string, object?> { ["message-type"] = message.Type },
                };
                await channel.BasicPublishAsync(message.Exchange, "", mandatory: true, properties, message.Body);
            }
            finally
            {
                _idle.Add(channel);
            }
        }
    }

    /// <summary>MailKit over a few reused connections, as Notifications' SmtpMailer sends.</summary>
    private sealed class Mailer(int port) : IAsyncDisposable
    {
        private readonly ConcurrentBag<SmtpClient> _idle = [];

        public async Task SendAsync(string to, string subject, string body, string messageId)
        {
            var message = new MimeMessage { Subject = subject, MessageId = messageId, Body = new TextPart("plain") { Text = body } };
            message.From.Add(MailboxAddress.Parse("Conveyor <orders@conveyor.example>"));
            message.To.Add(MailboxAddress.Parse(to));
            if (!_idle.TryTake(out var client))
            {
                client = new SmtpClient();
                await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None);
            }

            try
            {
                await client.SendAsync(message);
                _idle.Add(client);
            }
            catch
            {
                client.Dispose();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            while (_idle.TryTake(out var client))
            {
                await client.DisconnectAsync(true);
                client.Dispose();
            }
        }
    }
}
