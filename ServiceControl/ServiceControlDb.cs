using System.Text.Json;
using Conveyor.Hosting;
using Conveyor.ServiceControl.Audit;
using Conveyor.ServiceControl.EndpointHealth;
using Conveyor.ServiceControl.FailedMessages;
using Conveyor.ServiceControl.Operators;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Design;

namespace Conveyor.ServiceControl;

/// <summary>ServiceControl's own database: failed messages with their failure history, redirects, endpoint instances, the audit log.</summary>
public sealed class ServiceControlDb(DbContextOptions<ServiceControlDb> options) : DbContext(options), IDataProtectionKeyContext
{
    /// <summary>The keys Pulse's session and antiforgery cookies are protected with, shared by every instance and kept over restarts.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<FailedMessage> FailedMessages => Set<FailedMessage>();
    public DbSet<FailureRecord> Failures => Set<FailureRecord>();
    public DbSet<RetryRedirect> RetryRedirects => Set<RetryRedirect>();
    public DbSet<EndpointInstance> EndpointInstances => Set<EndpointInstance>();
    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();
    public DbSet<ProcessedMessage> ProcessedMessages => Set<ProcessedMessage>();

    /// <summary>Message headers as a jsonb object. They are replaced, never changed in place: comparing the reference is enough.</summary>
    private static void AsJson(Microsoft.EntityFrameworkCore.Metadata.Builders.PropertyBuilder<Dictionary<string, string?>> headers) =>
        headers.HasColumnType("jsonb").HasConversion(
            h => JsonSerializer.Serialize(h, JsonSerializerOptions.Default),
            json => JsonSerializer.Deserialize<Dictionary<string, string?>>(json, JsonSerializerOptions.Default) ?? new(),
            new ValueComparer<Dictionary<string, string?>>((a, b) => ReferenceEquals(a, b), h => h.Count, h => h));

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<FailedMessage>(message =>
        {
            message.ToTable("failed_messages");
            message.HasKey(m => m.Id);
            message.Property(m => m.MessageId).HasMaxLength(200);
            message.Property(m => m.StorageNote).HasMaxLength(4000);
            message.Property(m => m.StatusNote).HasMaxLength(1000);
            message.Property(m => m.Status).HasConversion<string>().HasMaxLength(16);
            AsJson(message.Property(m => m.Headers));
            message.Property(m => m.Properties).HasColumnType("jsonb").HasConversion(
                p => JsonSerializer.Serialize(p, JsonSerializerOptions.Default),
                json => JsonSerializer.Deserialize<MessageProperties>(json, JsonSerializerOptions.Default) ?? new());
            message.HasMany(m => m.Failures).WithOne().HasForeignKey(f => f.FailedMessageId).OnDelete(DeleteBehavior.Cascade);
            // Concurrent writers (ingestion, a retry, a confirmation) on one message: the loser retries.
            message.Property<uint>("Version").IsRowVersion();
            message.HasIndex(m => new { m.Status, m.LastFailedAt });
            message.HasIndex(m => new { m.Status, m.StatusChangedAt });
        });

        model.Entity<FailureRecord>(failure =>
        {
            failure.ToTable("failures");
            failure.HasKey(f => new { f.FailedMessageId, f.FailureKey });
            failure.Property(f => f.FailureKey).HasMaxLength(64);
        });

        model.Entity<RetryRedirect>(redirect =>
        {
            redirect.ToTable("retry_redirects");
            redirect.HasKey(r => r.FromQueue);
            redirect.Property(r => r.FromQueue).HasMaxLength(255);
            redirect.Property(r => r.ToQueue).HasMaxLength(255);
        });

        model.Entity<EndpointInstance>(instance =>
        {
            instance.ToTable("endpoint_instances");
            instance.HasKey(i => new { i.Endpoint, i.Host });
            instance.OwnsMany(i => i.Checks, checks => checks.ToJson("checks"));
        });

        model.Entity<ProcessedMessage>(message =>
        {
            message.ToTable("processed_messages");
            message.HasKey(m => m.Id);
            message.Property(m => m.MessageId).HasMaxLength(200);
            message.Property(m => m.ProcessingEndpoint).HasMaxLength(255);
            message.Property(m => m.Outcome).HasConversion<string>().HasMaxLength(16);
            AsJson(message.Property(m => m.Headers));
            message.Ignore(m => m.ShortType);
            message.Ignore(m => m.Kind);
            // One record per message and endpoint: a copy delivered twice is stored once.
            message.HasIndex(m => new { m.MessageId, m.ProcessingEndpoint }).IsUnique();
            message.HasIndex(m => m.ConversationId);
            message.HasIndex(m => m.SagaId);
            message.HasIndex(m => m.TimeSent);
            message.HasIndex(m => m.ProcessingMilliseconds);
            message.HasIndex(m => m.CriticalMilliseconds);
            message.HasIndex(m => m.ReceivedAt);
            message.HasGeneratedTsVectorColumn(m => m.Search, "simple", m => new { m.SearchText }).HasIndex(m => m.Search).HasMethod("GIN");
        });

        model.Entity<AuditEntry>(entry =>
        {
            entry.ToTable("audit_log");
            entry.HasKey(e => e.Id);
            entry.Property(e => e.OperatorId).HasMaxLength(200);
            entry.Property(e => e.OperatorName).HasMaxLength(200);
            entry.Property(e => e.Action).HasConversion<string>().HasMaxLength(32);
            // "Who retried this message?" looks a message id up in the arrays.
            entry.HasIndex(e => e.MessageIds).HasMethod("gin");
        });
    }
}

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without starting ServiceControl.</summary>
internal sealed class ServiceControlDbDesignTimeFactory : IDesignTimeDbContextFactory<ServiceControlDb>
{
    public ServiceControlDb CreateDbContext(string[] args) => new(EndpointDatabase.DesignTimeOptions<ServiceControlDb>());
}
