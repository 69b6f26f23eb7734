using System.Globalization;
using Conveyor.Messages;
using Wolverine.Persistence;
using static Conveyor.Notifications.CustomerNotification;

namespace Conveyor.Notifications;

/// <summary>Money for an order was given back: tell the customer, once.</summary>
public static class NotifyRefundIssuedHandler
{
    public static Task<NotificationContext> LoadAsync(PaymentRefunded refunded, NotificationsDb db, CancellationToken ct) =>
        CustomerNotification.LoadAsync(refunded.OrderId, NotificationKind.RefundIssued, db, ct);

    public static (IStorageAction<SentNotification>, Email?) Handle(PaymentRefunded refunded, NotificationContext context, TimeProvider clock) =>
        Decide(refunded.OrderId, NotificationKind.RefundIssued, context, order => RefundEmail(order, refunded), clock);

    public static Email RefundEmail(OrderSummary order, PaymentRefunded refunded)
    {
        var body = string.Create(CultureInfo.InvariantCulture, $"""
            Hello,

            we have refunded {refunded.Amount:0.00} {refunded.Currency} for your order {order.OrderId}.
            Depending on your bank it can take a few days to appear on your statement.

            Refund reference: {refunded.ProviderReference}
            """);
        return new Email(order.CustomerEmail, $"Refund issued for your order {ShortId(order.OrderId)}", body,
            MessageId(order.OrderId, NotificationKind.RefundIssued));
    }
}
