using Conveyor.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Conveyor.Notifications;

public sealed class NotificationsDb(DbContextOptions<NotificationsDb> options) : DbContext(options)
{
    public DbSet<OrderSummary> Orders => Set<OrderSummary>();
    public DbSet<SentNotification> SentNotifications => Set<SentNotification>();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<OrderSummary>(order =>
        {
            order.ToTable("orders");
            order.HasKey(o => o.OrderId);
            order.Property(o => o.OrderId).ValueGeneratedNever();
            order.Property(o => o.Currency).HasMaxLength(3).IsFixedLength();
            order.Property(o => o.Total).HasPrecision(19, 4);
            order.OwnsMany(o => o.Lines, lines => lines.ToJson("lines"));
        });

        model.Entity<SentNotification>(sent =>
        {
            sent.ToTable("sent_notifications");
            // Exactly one e-mail per order and kind, whatever the broker redelivers.
            sent.HasKey(s => new { s.OrderId, s.Kind });
            sent.Property(s => s.Kind).HasConversion<string>().HasMaxLength(32);
        });
    }
}

internal sealed class NotificationsDbDesignTimeFactory : IDesignTimeDbContextFactory<NotificationsDb>
{
    public NotificationsDb CreateDbContext(string[] args) => new(EndpointDatabase.DesignTimeOptions<NotificationsDb>());
}
