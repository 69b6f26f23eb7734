using Conveyor.Messages;
using Microsoft.EntityFrameworkCore;
using Wolverine.Persistence;

namespace Conveyor.Notifications;

/// <summary>An order was placed: keep what the e-mails will need (recipient, lines, total).</summary>
public static class TrackOrderHandler
{
    public static Task<bool> LoadAsync(OrderPlaced placed, NotificationsDb db, CancellationToken ct) =>
        db.Orders.AnyAsync(o => o.OrderId == placed.OrderId, ct);

    public static IStorageAction<OrderSummary> Handle(OrderPlaced placed, bool alreadyTracked) =>
        alreadyTracked
            ? Storage.Nothing<OrderSummary>()
            : Storage.Insert(new OrderSummary
            {
                OrderId = placed.OrderId,
                CustomerId = placed.CustomerId,
                CustomerEmail = placed.CustomerEmail,
                Currency = placed.Currency,
                Total = placed.Total,
                Lines = placed.Lines.Select(l => new OrderSummaryLine { Sku = l.Sku, Quantity = l.Quantity, UnitPrice = l.UnitPrice }).ToList(),
                PlacedAt = placed.PlacedAt,
            });
}
