using System.Data.Common;
using JasperFx.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Wolverine;
using Wolverine.EntityFrameworkCore;
using Wolverine.Postgresql;

namespace Conveyor.Hosting;

/// <summary>
/// An endpoint's own PostgreSQL database: its business rows (EF Core, migrated at start-up) and, in the
/// <c>wolverine</c> schema beside them, its inbox, outbox and scheduled messages, so that a handler's rows and the
/// messages it sends commit in one transaction; and how the endpoint's nodes share and recover that stored work.
/// </summary>
public static class EndpointPersistence
{
    internal static NpgsqlDataSource AddEndpointDatabase<TDb>(this WebApplicationBuilder builder, ConnectionSettings connections)
        where TDb : DbContext
    {
        // Before Wolverine's hosted service, so the schema exists before the first message is handled.
        builder.Services.AddHostedService<MigrateDatabaseOnStartup<TDb>>();

        // One connection pool per process, shared by EF Core, Wolverine's inbox and outbox and the health
        // checks: `Maximum Pool Size` in the connection string then caps what the process holds (with a pool
        // each, a process held twice that, and a few instances ran PostgreSQL out of connections).
        var database = NpgsqlDataSource.Create(WithPreparedStatements(connections.Database));
        // Through a factory: the container then owns the pool and closes it when the host stops.
        builder.Services.AddSingleton(_ => database);
        builder.Services.AddDbContextWithWolverineIntegration<TDb>(db => db.UseEndpointDatabase(database));
        return database;
    }

    /// <summary>
    /// Statements run twice are prepared and kept on their connection, unless the connection string says otherwise:
    /// every handler sends the same few dozen statements, and parsing and planning them each time was a sixth of
    /// PostgreSQL's work. Npgsql then resets a pooled connection without <c>DISCARD ALL</c>, which would drop them;
    /// its reset still releases advisory locks, which Wolverine relies on (docs/performance.md).
    /// </summary>
    internal static string WithPreparedStatements(string connectionString)
    {
        // Npgsql's own builder knows every keyword, set or not: the plain one says which ones the string sets.
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        var connection = new NpgsqlConnectionStringBuilder(connectionString);
        if (!given.ContainsKey("Max Auto Prepare") && !given.ContainsKey("MaxAutoPrepare")) connection.MaxAutoPrepare = 32;
        if (!given.ContainsKey("Auto Prepare Min Usages") && !given.ContainsKey("AutoPrepareMinUsages")) connection.AutoPrepareMinUsages = 2;
        return connection.ConnectionString;
    }

    internal static void Configure(WolverineOptions opts, NpgsqlDataSource database)
    {
        opts.PersistMessagesWithPostgresql(database, "wolverine");
        opts.UseEntityFrameworkCoreTransactions();
        opts.Policies.AutoApplyTransactions();
        opts.Policies.UseDurableInboxOnAllListeners();
        opts.Policies.UseDurableOutboxOnAllSendingEndpoints();
        opts.Policies.UseDurableLocalQueues();

        // Scheduled retries and the payment deadline fire on this polling cycle (and the inbox is recovered on it): the
        // default (5 s) stretches every delay. Each cycle is two transactions and a dozen statements even when there
        // is nothing to do; at 250 ms that was most of an idle endpoint's database load, and a second's delay on a retry
        // or a deadline changes nothing.
        opts.Durability.ScheduledJobPollingTime = 1.Seconds();
        opts.Durability.ScheduledJobFirstExecution = 250.Milliseconds();
        // Elect the node that runs the durability agent (and so report ready) about 2 s after a cold
        // start instead of 13 s: the first election waits for the first check plus one polling period.
        // The price is a heartbeat and an assignment check per node every 2 s, a trivial query load.
        opts.Durability.FirstHealthCheckExecution = 500.Milliseconds();
        opts.Durability.HealthCheckPollingTime = 2.Seconds();
        // Node assignment checks run every few seconds on every node: traces of them would bury the orders'.
        opts.Durability.NodeAssignmentHealthCheckTracingEnabled = false;
        // A node killed without a goodbye (kill -9, OOM, a lost machine) still owns its inbox, outbox and due
        // scheduled messages until a live node ejects it: with the default of a minute its orders' payment
        // deadlines ran out meanwhile. Ejected after 10 s without a heartbeat, seen on two checks in a row
        // (2 s apart), so its work is taken over some 12-16 s after it died. Shorter would risk ejecting a live
        // node that a busy machine merely kept from its heartbeat for a few seconds.
        opts.Durability.StaleNodeTimeout = 10.Seconds();
        opts.Durability.OrphanedMessageSweepPollingTime = 1.Seconds();
        // A live node can lose track of a row, too: a database restart between a send and the deletion of its
        // outbox row, or between handling a message and marking it handled, left it owned by a node that would
        // never look at it again. Rows older than this are released to any node (a message this node still
        // holds has its clock restarted while it does); one sent or handled twice is a duplicate with the same
        // envelope id, which the receiving inbox discards. Well inside the payment deadline.
        opts.Durability.OutboxStaleTime = 20.Seconds();
        opts.Durability.InboxStaleTime = 20.Seconds();
    }
}
