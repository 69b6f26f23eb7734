using Conveyor.Hosting;
using Conveyor.Topology;
using JasperFx.CodeGeneration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.Extensions.Hosting;
using Wolverine;
using Wolverine.ErrorHandling;
using Wolverine.RabbitMQ;

namespace Integration.Tests.Messaging;

// A small endpoint built with the same shared hosting library as Orders, Payments and Notifications, so
// the outbox and inbox guarantees are tested exactly as the endpoints get them, against the real broker
// and database, with handlers that can be told to fail at the worst moment.

/// <summary>Record an entry; with <see cref="CrashAfterStaging"/> the handler fails after writing its row and staging its event.</summary>
public sealed record RecordEntry(Guid Reference, bool CrashAfterStaging);

/// <summary>Published when an entry was recorded.</summary>
public sealed record EntryRecorded(Guid Reference);

/// <summary>Add an entry each time it is handled: handling it twice would leave two rows.</summary>
public sealed record Deposit(Guid Reference);

public sealed class SimulatedCrash() : Exception("Simulated crash after the handler wrote its row and staged its message.");

public sealed class LedgerEntry
{
    public Guid Id { get; set; }
    public Guid Reference { get; set; }
    public string Kind { get; set; } = "";
}

public sealed class LedgerDb(DbContextOptions<LedgerDb> options) : DbContext(options)
{
    public DbSet<LedgerEntry> Entries => Set<LedgerEntry>();

    protected override void OnModelCreating(ModelBuilder model) =>
        model.Entity<LedgerEntry>(entry =>
        {
            entry.ToTable("ledger_entries");
            entry.HasKey(e => e.Id);
            entry.HasIndex(e => e.Reference);
        });
}

internal sealed class LedgerDbDesignTimeFactory : IDesignTimeDbContextFactory<LedgerDb>
{
    public LedgerDb CreateDbContext(string[] args) => new(EndpointDatabase.DesignTimeOptions<LedgerDb>());
}

public static class RecordEntryHandler
{
    public static async Task Handle(RecordEntry command, LedgerDb db, IMessageContext messaging)
    {
        db.Entries.Add(new LedgerEntry { Id = Guid.NewGuid(), Reference = command.Reference, Kind = "entry" });
        await messaging.PublishAsync(new EntryRecorded(command.Reference));
        if (command.CrashAfterStaging) throw new SimulatedCrash();
    }
}

public static class DepositHandler
{
    public static void Handle(Deposit deposit, LedgerDb db) =>
        db.Entries.Add(new LedgerEntry { Id = Guid.NewGuid(), Reference = deposit.Reference, Kind = "deposit" });
}

public static class LedgerEndpoint
{
    public const string Queue = "it-ledger";
    /// <summary>Where Deposits are parked by Wolverine so a test can take the exact bytes and deliver them twice.</summary>
    public const string CaptureQueue = "it-capture";
    public const string ErrorQueue = ConveyorEndpoint.ErrorQueue;

    public static async Task<WebApplication> StartAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Development });
        builder.Configuration["ConnectionStrings:Database"] = Infrastructure.TestEnvironment.Database("conveyor_tests", "conveyor_tests");
        builder.Configuration["ConnectionStrings:RabbitMq"] = Infrastructure.TestEnvironment.RabbitMq;
        builder.WebHost.UseUrls("http://127.0.0.1:0");

        // Not part of the system's topology: a topology of its own, whose exchanges Wolverine declares itself.
        var ledger = new EndpointTopology { Name = Queue, Port = 0, Project = "", Publishes = [typeof(EntryRecorded)] };
        builder.AddConveyorEndpoint<LedgerDb>(ledger, wolverine =>
        {
            // No build generated this test host's handler code: Wolverine compiles it at start-up.
            wolverine.CodeGeneration.TypeLoadMode = TypeLoadMode.Dynamic;
            wolverine.PublishMessage<RecordEntry>().ToRabbitQueue(Queue);
            wolverine.PublishMessage<Deposit>().ToRabbitQueue(CaptureQueue);
            // One message at a time, in order, so "handled after" means "delivered after".
            wolverine.ListenToRabbitQueue(Queue).Sequential();
            // Endpoint rules come before the shared defaults: the simulated crash skips the retries.
            wolverine.OnException<SimulatedCrash>().MoveToErrorQueue();
        });

        var app = builder.Build();
        await app.StartAsync();
        return app;
    }
}
