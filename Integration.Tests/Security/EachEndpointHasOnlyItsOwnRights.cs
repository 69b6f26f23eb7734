using Integration.Tests.Infrastructure;
using Integration.Tests.System;
using Npgsql;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Integration.Tests.Security;

/// <summary>
/// Least privilege, checked against the real broker and database with the credentials the endpoints run
/// with: Payments can consume its own queue but not Orders', and cannot even connect to Orders' database.
/// </summary>
public class EachEndpointHasOnlyItsOwnRights
{
    [OneTimeSetUp]
    public void RequireInfrastructure() => TestEnvironment.RequireBrokerAndDatabase();

    private static async Task<Exception?> TryConsumeAsync(string user, string queue)
    {
        await using var connection = await new ConnectionFactory { Uri = new Uri(TestEnvironment.RabbitMqFor(user)) }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            var tag = await channel.BasicConsumeAsync(queue, autoAck: false, new AsyncEventingBasicConsumer(channel));
            await channel.BasicCancelAsync(tag);
            return null;
        }
        catch (OperationInterruptedException ex)
        {
            return ex;
        }
    }

    [Test]
    public async Task The_Payments_broker_user_cannot_consume_from_orders_but_can_from_payments()
    {
        // Both queues exist (declared by their endpoints in earlier runs, or here by the operator's user).
        await using (var broker = await Broker.ConnectAsync())
        {
            foreach (var queue in new[] { "orders", "payments" })
            {
                try { await broker.Channel.QueueDeclarePassiveAsync(queue); }
                catch (OperationInterruptedException) { Assert.Ignore($"queue {queue} does not exist yet; the system tests declare it"); }
            }
        }

        var fromOrders = await TryConsumeAsync("payments", "orders");
        var fromPayments = await TryConsumeAsync("payments", "payments");

        Assert.Multiple(() =>
        {
            Assert.That(fromOrders, Is.InstanceOf<OperationInterruptedException>());
            Assert.That((fromOrders as OperationInterruptedException)?.ShutdownReason?.ReplyCode, Is.EqualTo(403), "ACCESS_REFUSED");
            Assert.That(fromPayments, Is.Null, "its own queue is allowed");
        });
    }

    [Test]
    public async Task The_Payments_database_role_cannot_connect_to_the_orders_database()
    {
        var ordersAsPayments = TestEnvironment.Database("orders_systest", "payments");
        var paymentsAsPayments = TestEnvironment.Database("payments_systest", "payments");

        var refused = Assert.ThrowsAsync<PostgresException>(async () => await Sql.ScalarAsync<long>(ordersAsPayments, "select count(*) from orders"));
        var own = await Sql.ScalarAsync<int>(paymentsAsPayments, "select 1");

        Assert.Multiple(() =>
        {
            Assert.That(refused!.SqlState, Is.EqualTo(PostgresErrorCodes.InsufficientPrivilege), refused.Message);
            Assert.That(own, Is.EqualTo(1), "its own database is allowed");
        });
    }
}
