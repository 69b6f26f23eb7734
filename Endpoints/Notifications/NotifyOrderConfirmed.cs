using System.Globalization;
using System.Text;
using Conveyor.Messages;
using Microsoft.EntityFrameworkCore;
using Wolverine.Persistence;

namespace Conveyor.Notifications;

/// <summary>The order read model has not caught up yet (OrderPlaced not handled): retrying later will find it.</summary>
public sealed class OrderNotYetKnownException(Guid orderId)
    : Exception($"Order {orderId} is not known to Notifications yet (its OrderPlaced has not been handled).");

/// <summary>An order was confirmed: e-mail the customer, once.</summary>
public static class NotifyOrderConfirmedHandler
{
    public static async Task<(OrderSummary?, SentNotification?)> LoadAsync(OrderConfirmed confirmed, NotificationsDb db, CancellationToken ct) =>
    (
        await db.Orders.AsNoTracking().SingleOrDefaultAsync(o => o.OrderId == confirmed.OrderId, ct),
        await db.SentNotifications.FindAsync([confirmed.OrderId, NotificationKind.OrderConfirmed], ct)
    );

    /// <remarks>
    /// The mail goes out before the record of it commits: if the commit then fails the message is retried and
    /// the mail may be sent twice (with the same Message-Id, so mail clients collapse it); the other order
    /// could lose an e-mail, which is worse.
    /// </remarks>
    public static (IStorageAction<SentNotification>, Email?) Handle(
        OrderConfirmed confirmed,
        OrderSummary? order,
        SentNotification? alreadySent,
        TimeProvider clock)
    {
        if (alreadySent is not null) return (Storage.Nothing<SentNotification>(), null);
        if (order is null) throw new OrderNotYetKnownException(confirmed.OrderId);

        var email = ConfirmationEmail(order);
        var sent = new SentNotification
        {
            OrderId = order.OrderId,
            Kind = NotificationKind.OrderConfirmed,
            Recipient = email.To,
            Subject = email.Subject,
            MessageId = email.MessageId,
            SentAt = clock.GetUtcNow(),
        };
        return (Storage.Insert(sent), email);
    }

    public static Email ConfirmationEmail(OrderSummary order)
    {
        var money = CultureInfo.InvariantCulture;
        var body = new StringBuilder()
            .AppendLine("Hello,")
            .AppendLine()
            .AppendLine(money, $"your order {order.OrderId} is confirmed and your payment has been received.")
            .AppendLine();
        foreach (var line in order.Lines)
        {
            body.AppendLine(money, $"  {line.Quantity} x {line.Sku} at {line.UnitPrice:0.00} {order.Currency}");
        }

        body.AppendLine()
            .AppendLine(money, $"Total: {order.Total:0.00} {order.Currency}")
            .AppendLine()
            .AppendLine("Thank you for your order.");

        return new Email(
            To: order.CustomerEmail,
            Subject: $"Your order {ShortId(order.OrderId)} is confirmed",
            Body: body.ToString(),
            MessageId: $"{order.OrderId:N}.order-confirmed@conveyor.example");
    }

    private static string ShortId(Guid id) => id.ToString("N")[^8..].ToUpperInvariant();
}
