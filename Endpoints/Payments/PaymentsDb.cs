using Conveyor.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Conveyor.Payments;

public sealed class PaymentsDb(DbContextOptions<PaymentsDb> options) : DbContext(options)
{
    public DbSet<Payment> Payments => Set<Payment>();

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
            payment.Property(p => p.PaymentToken).HasMaxLength(200);
            payment.Property(p => p.ProviderReference).HasMaxLength(200);
            payment.Property(p => p.DeclineReason).HasMaxLength(500);
            payment.Property(p => p.Version).IsConcurrencyToken();
        });
    }
}

internal sealed class PaymentsDbDesignTimeFactory : IDesignTimeDbContextFactory<PaymentsDb>
{
    public PaymentsDb CreateDbContext(string[] args) => new(EndpointDatabase.DesignTimeOptions<PaymentsDb>());
}
