using Integration.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Wolverine;

namespace Integration.Tests.Messaging;

/// <summary>Starts the ledger endpoint on the real broker and database, and cleans between tests.</summary>
public abstract class LedgerFixture
{
    protected WebApplication Endpoint = null!;
    protected Broker Broker = null!;

    [OneTimeSetUp]
    public async Task StartEndpoint()
    {
        TestEnvironment.RequireBrokerAndDatabase();
        Broker = await Broker.ConnectAsync();
        await Broker.DeleteAsync(LedgerEndpoint.Queue, LedgerEndpoint.CaptureQueue);
        await Broker.PurgeAsync(LedgerEndpoint.ErrorQueue);
        // Where the ledger's Deposits go for the tests to inspect: the test's own queue, which no endpoint declares.
        await Broker.Channel.QueueDeclareAsync(LedgerEndpoint.CaptureQueue, durable: true, exclusive: false, autoDelete: false);
        Endpoint = await LedgerEndpoint.StartAsync();
    }

    [OneTimeTearDown]
    public async Task StopEndpoint()
    {
        if (Endpoint is not null)
        {
            await Endpoint.StopAsync();
            await Endpoint.DisposeAsync();
        }

        if (Broker is not null) await Broker.DisposeAsync();
    }

    [SetUp]
    public async Task EmptyTheLedger()
    {
        await using var db = NewDb();
        await db.Entries.ExecuteDeleteAsync();
        await Broker.PurgeAsync(LedgerEndpoint.ErrorQueue);
        // Where the ledger's Deposits go for the tests to inspect: the test's own queue, which no endpoint declares.
        await Broker.Channel.QueueDeclareAsync(LedgerEndpoint.CaptureQueue, durable: true, exclusive: false, autoDelete: false);
    }

    protected LedgerDb NewDb() => Endpoint.Services.CreateScope().ServiceProvider.GetRequiredService<LedgerDb>();

    protected async Task SendAsync(object message)
    {
        await using var scope = Endpoint.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<IMessageBus>().SendAsync(message);
    }

    protected async Task<int> EntriesFor(Guid reference)
    {
        await using var db = NewDb();
        return await db.Entries.CountAsync(e => e.Reference == reference);
    }

    /// <summary>Messages committed to the outbox but not yet handed to the broker.</summary>
    protected static Task<long> PendingOutgoingEnvelopes() =>
        Sql.ScalarAsync<long>(TestEnvironment.Database("conveyor_tests", "conveyor_tests"), "select count(*) from wolverine.wolverine_outgoing_envelopes");
}
