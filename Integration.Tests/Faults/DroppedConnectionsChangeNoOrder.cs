using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conveyor.Topology;
using Integration.Tests.Infrastructure;
using Integration.Tests.System;

namespace Integration.Tests.Faults;

/// <summary>
/// Connections drop under a running system: the broker closes every connection at once
/// (<c>rabbitmqctl close_all_connections</c>, as a failover, a partition or an operator would), and Orders loses
/// its database for a while. Nothing is restarted: every process must reconnect by itself, no order may end
/// differently, and a request that cannot reach the database is a 503 the client may retry, never a 500.
/// </summary>
public class DroppedConnectionsChangeNoOrder : FaultFixture
{
    // Orders reaches PostgreSQL through this relay, which can cut its connections and refuse new ones.
    private readonly TcpRelay _ordersDatabase = new(TestEnvironment.PostgresHost, 5432);

    protected override void RequireMore()
    {
        if (Environment.UserName != "root") Assert.Ignore("rabbitmqctl needs root (./build.sh test runs as root in CI).");
    }

    protected override IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> EndpointSettings =>
        new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            [SystemTopology.Orders.Name] = new Dictionary<string, string>
            {
                ["ConnectionStrings__Database"] = $"Host=127.0.0.1;Port={_ordersDatabase.Port};Database={SystemDatabases.TestDatabaseOf(SystemTopology.Orders)};Username={SystemTopology.Orders.DatabaseRole};Password={DevelopmentPasswords.Of(SystemTopology.Orders)}",
            },
        };

    [OneTimeTearDown]
    public async Task StopTheRelay() => await _ordersDatabase.DisposeAsync();

    [Test]
    public async Task Every_process_reconnects_to_the_broker_and_every_order_ends_confirmed()
    {
        var result = await BurstWithFaultAsync(
            "all broker connections closed",
            "`rabbitmqctl close_all_connections` for the system's vhost once a tenth of the burst was accepted; nothing restarted.",
            async (_, _) => await Shell.RunAsync("rabbitmqctl", "-q", "close_all_connections", "-p", new Uri(TestEnvironment.RabbitMq).AbsolutePath.Trim('/'), "fault suite: all connections closed"),
            nothingRestarts: true);

        result.AssertPassed();
    }

    [Test]
    public async Task Without_its_database_Orders_answers_503_with_Retry_After_and_stores_nothing_then_recovers()
    {
        var order = new
        {
            currency = "EUR",
            paymentToken = "tok_ok",
            lines = new object[] { new { sku = "BOOK-DDD", quantity = 1 } },
        };
        // The same key throughout: the client retries the one order until it is taken.
        var key = Guid.NewGuid().ToString();

        await _ordersDatabase.RefuseAsync();
        HttpResponseMessage refused;
        try
        {
            refused = await OrderRequests.PostAsync(Api, order, key);
        }
        finally
        {
            _ordersDatabase.Resume();
        }

        var accepted = await TestEnvironment.Eventually(() => OrderRequests.PostAsync(Api, order, key), r => r.StatusCode == HttpStatusCode.Accepted,
            "Orders to take orders again once its database is back", TimeSpan.FromSeconds(30));
        // And the order goes all the way (nothing of it is left in flight for the next fixture's processes either).
        await WaitForState(new Placed(await IdOf(accepted), accepted.Headers.Location!), "Confirmed");

        Assert.Multiple(async () =>
        {
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable), await refused.Content.ReadAsStringAsync());
            Assert.That(refused.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
            Assert.That(refused.Headers.RetryAfter?.Delta, Is.GreaterThan(TimeSpan.Zero), "Retry-After");
            Assert.That(accepted.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            Assert.That(await SystemDatabases.OrderRowsForKey(key), Is.EqualTo(1), "the refused request stored nothing, the retried one its order");
        });
    }

    private static async Task<Guid> IdOf(HttpResponseMessage accepted) =>
        (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
}
