using Microsoft.EntityFrameworkCore;
using Wolverine.Persistence;

namespace Conveyor.Notifications;

/// <summary>The order read model has not caught up yet (OrderPlaced not handled): retrying later will find it.</summary>
public sealed class OrderNotYetKnownException(Guid orderId)
    : Exception($"Order {orderId} is not known to Notifications yet (its OrderPlaced has not been handled).");

/// <summary>What a notification handler needs to decide: the order, and whether this kind of mail already went out.</summary>
public sealed record NotificationContext(OrderSummary? Order, SentNotification? AlreadySent);

/// <summary>
/// The rule every customer e-mail follows: exactly one per order and kind. The mail goes out before the
/// record of it commits; if that commit then fails the message is retried and the mail may be sent twice
/// (with the same Message-Id, which mail clients collapse) — losing a mail would be worse.
/// </summary>
public static class CustomerNotification
{
    public static async Task<NotificationContext> LoadAsync(Guid orderId, NotificationKind kind, NotificationsDb db, CancellationToken ct) =>
        new(await db.Orders.AsNoTracking().SingleOrDefaultAsync(o => o.OrderId == orderId, ct),
            await db.SentNotifications.FindAsync([orderId, kind], ct));

    public static (IStorageAction<SentNotification>, Email?) Decide(
        Guid orderId,
        NotificationKind kind,
        NotificationContext context,
        Func<OrderSummary, Email> compose,
        TimeProvider clock)
    {
        if (context.AlreadySent is not null) return (Storage.Nothing<SentNotification>(), null);
        if (context.Order is null) throw new OrderNotYetKnownException(orderId);

        var email = compose(context.Order);
        var sent = new SentNotification
        {
            OrderId = orderId,
            Kind = kind,
            Recipient = email.To,
            Subject = email.Subject,
            MessageId = email.MessageId,
            SentAt = clock.GetUtcNow(),
        };
        return (Storage.Insert(sent), email);
    }

    public static string ShortId(Guid orderId) => orderId.ToString("N")[^12..].ToUpperInvariant();

    public static string MessageId(Guid orderId, NotificationKind kind) => $"{orderId:N}.{kind.ToString().ToLowerInvariant()}@conveyor.example";
}
