using System.Globalization;
using Conveyor.Messages;
using Wolverine.Persistence;
using static Conveyor.Notifications.CustomerNotification;

namespace Conveyor.Notifications;

/// <summary>An order was cancelled: tell the customer why, once.</summary>
public static class NotifyOrderCancelledHandler
{
    public static Task<NotificationContext> LoadAsync(OrderCancelled cancelled, NotificationsDb db, CancellationToken ct) =>
        CustomerNotification.LoadAsync(cancelled.OrderId, NotificationKind.OrderCancelled, db, ct);

    public static (IStorageAction<SentNotification>, Email?) Handle(OrderCancelled cancelled, NotificationContext context, TimeProvider clock) =>
        Decide(cancelled.OrderId, NotificationKind.OrderCancelled, context, order => CancellationEmail(order, cancelled.Reason), clock);

    public static string Explain(CancellationReason reason) => reason switch
    {
        CancellationReason.PaymentDeclined => "your payment was declined by the payment provider",
        CancellationReason.PaymentTimedOut => "we did not receive your payment in time",
        CancellationReason.CustomerRequested => "you asked us to cancel it",
        CancellationReason.OutOfStock => "an item you ordered is out of stock; any payment taken is refunded",
        _ => "of a problem with the order",
    };

    public static Email CancellationEmail(OrderSummary order, CancellationReason reason)
    {
        var body = string.Create(CultureInfo.InvariantCulture, $"""
            Hello,

            your order {order.OrderId} ({order.Total:0.00} {order.Currency}) has been cancelled because {Explain(reason)}.
            If any money was taken for it, it will be refunded and we will let you know.

            Reason code: {reason}
            """);
        return new Email(order.CustomerEmail, $"Your order {ShortId(order.OrderId)} was cancelled", body,
            MessageId(order.OrderId, NotificationKind.OrderCancelled));
    }
}
