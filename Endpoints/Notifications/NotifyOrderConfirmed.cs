using System.Globalization;
using System.Text;
using Conveyor.Messages;
using Wolverine.Persistence;
using static Conveyor.Notifications.CustomerNotification;

namespace Conveyor.Notifications;

/// <summary>An order was confirmed: tell the customer, once.</summary>
public static class NotifyOrderConfirmedHandler
{
    public static Task<NotificationContext> LoadAsync(OrderConfirmed confirmed, NotificationsDb db, CancellationToken ct) =>
        CustomerNotification.LoadAsync(confirmed.OrderId, NotificationKind.OrderConfirmed, db, ct);

    public static (IStorageAction<SentNotification>, Email?) Handle(OrderConfirmed confirmed, NotificationContext context, TimeProvider clock) =>
        Decide(confirmed.OrderId, NotificationKind.OrderConfirmed, context, ConfirmationEmail, clock);

    public static Email ConfirmationEmail(OrderSummary order)
    {
        var invariant = CultureInfo.InvariantCulture;
        var body = new StringBuilder()
            .AppendLine("Hello,")
            .AppendLine()
            .AppendLine(invariant, $"your order {order.OrderId} is confirmed and your payment has been received.")
            .AppendLine();
        foreach (var line in order.Lines)
        {
            body.AppendLine(invariant, $"  {line.Quantity} x {line.Sku} at {line.UnitPrice:0.00} {order.Currency}");
        }

        body.AppendLine()
            .AppendLine(invariant, $"Total: {order.Total:0.00} {order.Currency}")
            .AppendLine()
            .AppendLine("Thank you for your order.");

        return new Email(order.CustomerEmail, $"Your order {ShortId(order.OrderId)} is confirmed", body.ToString(),
            MessageId(order.OrderId, NotificationKind.OrderConfirmed));
    }
}
