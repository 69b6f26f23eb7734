using Conveyor.Hosting;
using Conveyor.Messages;

namespace Conveyor.Payments;

public enum PaymentStatus
{
    /// <summary>The provider authorized the charge: the money is taken.</summary>
    Authorized,

    /// <summary>The provider refused the charge: nothing was taken.</summary>
    Declined,

    /// <summary>The order was cancelled before any charge was recorded: none will be made.</summary>
    Voided,

    /// <summary>The money was taken and has been given back.</summary>
    Refunded,
}

/// <summary>
/// The one payment of an order (unique per order). Its id is derived from the order id, so it is also the
/// idempotency key of every charge attempt, and the refund's id is derived from it in turn.
/// </summary>
public sealed class Payment
{
    public Guid Id { get; set; }
    public Guid OrderId { get; set; }
    public decimal Amount { get; set; }
    public string Currency { get; set; } = "";
    public PaymentStatus Status { get; set; }
    public string? ProviderReference { get; set; }
    public string? DeclineReason { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public int Version { get; set; }

    /// <summary>Records the provider's answer to the charge for an order, and the event that announces it.</summary>
    public static (Payment Payment, object Announcement) FromCharge(OrderPlaced order, ChargeResult outcome, DateTimeOffset now)
    {
        var payment = new Payment
        {
            Id = PaymentIds.PaymentFor(order.OrderId),
            OrderId = order.OrderId,
            Amount = order.Total,
            Currency = order.Currency,
            CreatedAt = now,
            UpdatedAt = now,
        };

        switch (outcome)
        {
            case ChargeResult.Authorized authorized:
                payment.Status = PaymentStatus.Authorized;
                payment.ProviderReference = authorized.ProviderReference;
                ConveyorTelemetry.PaymentsAuthorized.Add(1);
                return (payment, new PaymentAuthorized(order.OrderId, payment.Id, payment.Amount, payment.Currency, authorized.ProviderReference, now));
            case ChargeResult.Declined declined:
                payment.Status = PaymentStatus.Declined;
                payment.DeclineReason = declined.Reason;
                ConveyorTelemetry.PaymentsDeclined.Add(1);
                return (payment, new PaymentDeclined(order.OrderId, payment.Id, declined.Reason, now));
            default:
                throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "Unknown charge outcome.");
        }
    }

    /// <summary>The order was cancelled before any charge was recorded: remember it, so no charge follows.</summary>
    public static Payment VoidedBeforeCharge(Guid orderId, DateTimeOffset now) => new()
    {
        Id = PaymentIds.PaymentFor(orderId),
        OrderId = orderId,
        Status = PaymentStatus.Voided,
        CreatedAt = now,
        UpdatedAt = now,
    };

    public Guid RefundId => PaymentIds.RefundFor(Id);

    /// <summary>The provider gave the money back: the refund to record and the event that announces it.</summary>
    public (Refund Refund, PaymentRefunded Refunded) RecordRefund(RefundResult.Refunded refunded, decimal amount, string currency, DateTimeOffset now)
    {
        Status = PaymentStatus.Refunded;
        UpdatedAt = now;
        Version++;
        var refund = new Refund
        {
            PaymentId = Id,
            RefundId = RefundId,
            OrderId = OrderId,
            Amount = amount,
            Currency = currency,
            ProviderReference = refunded.ProviderReference,
            RefundedAt = now,
        };
        ConveyorTelemetry.PaymentsRefunded.Add(1);
        return (refund, new PaymentRefunded(OrderId, Id, refund.RefundId, amount, currency, refunded.ProviderReference, now));
    }
}

/// <summary>The refund of a payment: its primary key is the payment, so a payment is refunded at most once.</summary>
public sealed class Refund
{
    public Guid PaymentId { get; set; }
    public Guid RefundId { get; set; }
    public Guid OrderId { get; set; }
    public decimal Amount { get; set; }
    public string Currency { get; set; } = "";
    public string ProviderReference { get; set; } = "";
    public DateTimeOffset RefundedAt { get; set; }
}
