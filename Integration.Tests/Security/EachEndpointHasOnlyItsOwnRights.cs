using Conveyor.Topology;
using Integration.Tests.Infrastructure;
using Integration.Tests.System;
using Npgsql;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Integration.Tests.Security;

/// <summary>
/// Least privilege, tried against the real broker and database with the very credentials the endpoints run with,
/// while the system runs on them: every endpoint's broker user is refused (ACCESS_REFUSED) everything the topology
/// does not give it — publishing to any exchange but its own messages', reaching any queue through the default
/// exchange, consuming, purging or deleting <c>error</c> or another endpoint's queue, declaring what it does not own —
/// and allowed what it needs. No user can put another's name in <c>user_id</c>. Each database role reaches only its
/// own database.
/// </summary>
public class EachEndpointHasOnlyItsOwnRights : SystemFixture
{
    private const ushort AccessRefused = 403;
    private const ushort PreconditionFailed = 406;

    public static IEnumerable<EndpointTopology> Endpoints => SystemTopology.Endpoints;

    private static IEnumerable<string> Queues => SystemTopology.Endpoints.Select(e => e.Queue).Concat(SystemTopology.PlatformQueues);

    /// <summary>
    /// Runs <paramref name="attempt"/> as <paramref name="endpoint"/>'s broker user on a connection and channel of its
    /// own and answers the reply code the broker closed the channel with, or null if it let the attempt through. A
    /// publish is answered asynchronously: a round trip after it makes the broker's verdict arrive first. A connection
    /// per attempt: reopening a channel on a connection whose previous channel the broker just closed can trip
    /// RabbitMQ.Client into CHANNEL_ERROR "expected 'channel.open'", which closes the whole connection
    /// (rabbitmq/rabbitmq-dotnet-client#1835, open).
    /// </summary>
    private static Task<ushort?> VerdictOn(EndpointTopology endpoint, Func<IChannel, Task> attempt) => VerdictOn(endpoint, (channel, _) => attempt(channel));

    /// <summary>As above; the attempt also gets the user the connection is signed in as.</summary>
    private static async Task<ushort?> VerdictOn(EndpointTopology endpoint, Func<IChannel, string, Task> attempt)
    {
        await using var broker = await Broker.ConnectAsAsync(endpoint);
        await using var channel = await broker.Connection.CreateChannelAsync();
        try
        {
            await attempt(channel, broker.User);
            await channel.ExchangeDeclarePassiveAsync("amq.fanout");
        }
        catch (OperationInterruptedException)
        {
            // The broker closed the channel (AlreadyClosedException is one of these): its reason is the verdict.
        }

        return channel.IsOpen ? null : channel.CloseReason?.ReplyCode;
    }

    private static Task<ushort?> Publish(EndpointTopology endpoint, string exchange, string routingKey, string? userId = null) =>
        VerdictOn(endpoint, (channel, user) => channel.BasicPublishAsync(exchange, routingKey, mandatory: false,
            new BasicProperties { MessageId = Guid.NewGuid().ToString(), Type = "Tests.Forged", UserId = userId ?? user }, "{}"u8.ToArray()).AsTask());

    [TestCaseSource(nameof(Endpoints))]
    public async Task Every_broker_user_is_refused_what_the_topology_does_not_give_it(EndpointTopology endpoint)
    {
        var verdicts = new List<(string Attempt, ushort? Verdict, ushort? Expected)>();
        async Task Expect(string attempt, ushort? expected, Task<ushort?> verdict) => verdicts.Add((attempt, await verdict, expected));

        foreach (var exchange in SystemTopology.Exchanges.Where(x => !endpoint.ExchangesWritten.Contains(x) && !SystemTopology.PlatformQueues.Contains(x)))
        {
            await Expect($"publish to exchange {exchange}", AccessRefused, Publish(endpoint, exchange, ""));
        }

        if (endpoint.SendsRetries)
        {
            // ServiceControl alone puts a failed message back into the queue it failed in (tried with a queue that
            // does not exist, so nothing is delivered: the broker checks the right before it routes).
            await Expect("publish through the default exchange", null, Publish(endpoint, "", $"nowhere-{Guid.NewGuid():N}"));
        }
        else
        {
            foreach (var queue in Queues)
            {
                await Expect($"publish through the default exchange to queue {queue}", AccessRefused, Publish(endpoint, "", queue));
            }
        }

        foreach (var queue in Queues.Where(q => q != endpoint.Queue))
        {
            var reads = endpoint.ReadsQueues.Contains(queue);
            await Expect($"consume from queue {queue}", reads ? null : AccessRefused, VerdictOn(endpoint, async channel =>
            {
                await channel.BasicQosAsync(0, 1, false);
                var tag = await channel.BasicConsumeAsync(queue, autoAck: false, new AsyncEventingBasicConsumer(channel));
                await channel.BasicCancelAsync(tag);
            }));
            if (!reads) await Expect($"purge queue {queue}", AccessRefused, VerdictOn(endpoint, channel => channel.QueuePurgeAsync(queue)));
            await Expect($"delete queue {queue}", AccessRefused, VerdictOn(endpoint, channel => channel.QueueDeleteAsync(queue)));
            await Expect($"declare queue {queue}", AccessRefused, VerdictOn(endpoint, channel => channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
                new Dictionary<string, object?> { ["x-queue-type"] = "quorum" })));
        }

        foreach (var exchange in endpoint.ExchangesWritten.Take(1).Concat(SystemTopology.PlatformQueues))
        {
            await Expect($"delete exchange {exchange}", AccessRefused, VerdictOn(endpoint, channel => channel.ExchangeDeleteAsync(exchange)));
        }

        await Expect("declare an exchange of its own", AccessRefused, VerdictOn(endpoint, channel => channel.ExchangeDeclareAsync($"{endpoint.Name}.shadow", ExchangeType.Fanout)));
        var other = SystemTopology.Endpoints.First(e => e != endpoint);
        await Expect($"publish as {other.BrokerUser} (user_id)", PreconditionFailed, Publish(endpoint, SystemTopology.ErrorQueue, "", userId: other.BrokerUser));

        // What it needs: its own queue, and the exchanges it reads bound to it.
        await Expect($"consume from its own queue {endpoint.Queue}", null, VerdictOn(endpoint, async channel =>
        {
            await channel.BasicQosAsync(0, 1, false);
            var tag = await channel.BasicConsumeAsync(endpoint.Queue, autoAck: false, new AsyncEventingBasicConsumer(channel));
            await channel.BasicCancelAsync(tag);
        }));
        foreach (var exchange in endpoint.ExchangesRead)
        {
            await Expect($"bind its queue to {exchange}", null, VerdictOn(endpoint, channel => channel.QueueBindAsync(endpoint.Queue, exchange, "")));
        }

        Assert.Multiple(() =>
        {
            foreach (var (attempt, verdict, expected) in verdicts)
            {
                Assert.That(verdict, Is.EqualTo(expected), $"{endpoint.BrokerUser}: {attempt} — expected {(expected is null ? "allowed" : $"refused with {expected}")}");
            }
        });
        Assert.That(verdicts.Count(v => v.Expected == AccessRefused), Is.GreaterThan(10), "the attempts ran");
    }

    [Test]
    public async Task The_Payments_database_role_cannot_connect_to_the_orders_database()
    {
        var ordersAsPayments = TestEnvironment.Database(SystemDatabases.TestDatabaseOf(SystemTopology.Orders), SystemTopology.Payments.DatabaseRole);
        var paymentsAsPayments = SystemDatabases.ConnectionTo(SystemTopology.Payments);
        var ordersWithPaymentsPassword = new NpgsqlConnectionStringBuilder(RunningSystem.OrdersDatabase) { Password = DevelopmentPasswords.Of(SystemTopology.Payments) }.ConnectionString;

        var refused = Assert.ThrowsAsync<PostgresException>(async () => await Sql.ScalarAsync<long>(ordersAsPayments, "select count(*) from orders"));
        var wrongPassword = Assert.ThrowsAsync<PostgresException>(async () => await Sql.ScalarAsync<long>(ordersWithPaymentsPassword, "select count(*) from orders"));
        var own = await Sql.ScalarAsync<int>(paymentsAsPayments, "select 1");

        Assert.Multiple(() =>
        {
            Assert.That(refused!.SqlState, Is.EqualTo(PostgresErrorCodes.InsufficientPrivilege), refused.Message);
            Assert.That(wrongPassword!.SqlState, Is.EqualTo(PostgresErrorCodes.InvalidPassword), "each role has a password of its own");
            Assert.That(own, Is.EqualTo(1), "its own database is allowed");
        });
    }
}
