using Conveyor.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Conveyor.Orders;

/// <summary>The orders database: the order saga's state is the order itself.</summary>
public sealed class OrdersDb(DbContextOptions<OrdersDb> options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();

    public DbSet<CatalogItem> Catalog => Set<CatalogItem>();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<Order>(order =>
        {
            order.ToTable("orders");
            order.HasKey(o => o.Id);
            order.Property(o => o.CustomerId).HasMaxLength(PlaceOrder.MaxCustomerIdLength).IsRequired();
            order.Property(o => o.CustomerEmail).HasMaxLength(PlaceOrder.MaxEmailLength).IsRequired();
            order.Property(o => o.Currency).HasMaxLength(3).IsFixedLength().IsRequired();
            order.Property(o => o.Total).HasPrecision(19, 4);
            order.Property(o => o.Status).HasConversion<string>().HasMaxLength(32);
            order.Property(o => o.IdempotencyKey).HasMaxLength(PlaceOrder.MaxIdempotencyKeyLength);
            order.Property(o => o.RequestFingerprint).HasMaxLength(64);
            order.Property(o => o.PaymentState).HasConversion<string>().HasMaxLength(32);
            order.Property(o => o.StockState).HasConversion<string>().HasMaxLength(32);
            order.Property(o => o.PaymentReference).HasMaxLength(200);
            order.Property(o => o.PaymentDeclineReason).HasMaxLength(500);
            // Without the concurrency token two events for one order could both load version N and the
            // second save would silently overwrite the first; with it the loser retries on fresh state.
            order.Property(o => o.Version).IsConcurrencyToken();
            // A key is the customer's own: another customer's order is never found (or leaked) through it.
            order.HasIndex(o => new { o.CustomerId, o.IdempotencyKey }).IsUnique();
            order.HasIndex(o => o.CustomerId);
            order.OwnsMany(o => o.Lines, lines => lines.ToJson("lines"));
            order.OwnsMany(o => o.Timeline, timeline =>
            {
                timeline.ToJson("timeline");
                timeline.Property(t => t.Status).HasConversion<string>();
            });
        });

        model.Entity<CatalogItem>(item =>
        {
            item.ToTable("catalog_items");
            item.HasKey(i => i.Sku);
            item.Property(i => i.Sku).HasMaxLength(PlaceOrder.MaxSkuLength);
            item.Property(i => i.Name).HasMaxLength(Conveyor.Orders.Catalog.MaxNameLength).IsRequired();
            item.Property(i => i.UnitPrice).HasPrecision(19, 4);
            item.Property(i => i.Currency).HasMaxLength(3).IsFixedLength().IsRequired();
        });
    }
}

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without starting the endpoint.</summary>
internal sealed class OrdersDbDesignTimeFactory : IDesignTimeDbContextFactory<OrdersDb>
{
    public OrdersDb CreateDbContext(string[] args) => new(EndpointDatabase.DesignTimeOptions<OrdersDb>());
}
