using Conveyor.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Conveyor.Payments;

public sealed class PaymentsDb(DbContextOptions<PaymentsDb> options) : DbContext(options)
{
    public DbSet<Payment> Payments => Set<Payment>();
    public DbSet<Refund> Refunds => Set<Refund>();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<Payment>(payment =>
        {
            payment.ToTable("payments");
            payment.HasKey(p => p.Id);
            // One payment per order, enforced by the database: the inbox only recognises a redelivered
            // envelope, not the same order arriving again under a new message id.
            payment.HasIndex(p => p.OrderId).IsUnique();
            payment.Property(p => p.Amount).HasPrecision(19, 4);
            payment.Property(p => p.Currency).HasMaxLength(3).IsFixedLength();
            payment.Property(p => p.Status).HasConversion<string>().HasMaxLength(32);
            payment.Property(p => p.ProviderReference).HasMaxLength(200);
            payment.Property(p => p.DeclineReason).HasMaxLength(500);
            payment.Property(p => p.Version).IsConcurrencyToken();
        });

        model.Entity<Refund>(refund =>
        {
            refund.ToTable("refunds");
            // Keyed by the payment: at most one refund per payment, whatever races or redeliveries happen.
            refund.HasKey(r => r.PaymentId);
            refund.HasIndex(r => r.RefundId).IsUnique();
            refund.Property(r => r.Amount).HasPrecision(19, 4);
            refund.Property(r => r.Currency).HasMaxLength(3).IsFixedLength();
            refund.Property(r => r.ProviderReference).HasMaxLength(200);
        });
    }
}

internal sealed class PaymentsDbDesignTimeFactory : IDesignTimeDbContextFactory<PaymentsDb>
{
    public PaymentsDb CreateDbContext(string[] args) => new(EndpointDatabase.DesignTimeOptions<PaymentsDb>());
}
