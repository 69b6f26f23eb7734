using Conveyor.Messages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Wolverine;
using Wolverine.Persistence;

namespace Conveyor.Payments;

/// <summary>
/// Compensation. An order was cancelled: give back what was taken for it, once. If nothing was charged
/// yet, record that the order is void so that no charge follows.
/// </summary>
public static class RefundOnCancellationHandler
{
    public static Task<Payment?> LoadAsync(OrderCancelled cancelled, PaymentsDb db, CancellationToken ct) =>
        db.Payments.SingleOrDefaultAsync(p => p.OrderId == cancelled.OrderId, ct);

    public static async Task<PaymentDecision> Handle(
        OrderCancelled cancelled,
        Payment? payment,
        IPaymentProvider provider,
        TimeProvider clock,
        CancellationToken ct) =>
        payment switch
        {
            null => (Storage.Insert(Payment.VoidedBeforeCharge(cancelled.OrderId, clock.GetUtcNow())), Storage.Nothing<Refund>(), []),
            { Status: PaymentStatus.Authorized } => await PaymentChanges.RefundAsync(payment, provider, clock, ct),
            // Declined, voided or already refunded: nothing was taken, or it is back already.
            _ => PaymentChanges.None(),
        };
}

/// <summary>Orders asks for a refund of money taken for an order it does not know.</summary>
public static class RefundPaymentHandler
{
    public static ValueTask<Payment?> LoadAsync(RefundPayment command, PaymentsDb db, CancellationToken ct) =>
        db.Payments.FindAsync([command.PaymentId], ct);

    public static async Task<PaymentDecision> Handle(
        RefundPayment command,
        Payment? payment,
        IPaymentProvider provider,
        TimeProvider clock,
        ILogger<RefundPayment> logger,
        CancellationToken ct)
    {
        if (payment is { Status: PaymentStatus.Authorized }) return await PaymentChanges.RefundAsync(payment, provider, clock, ct);

        logger.LogInformation("No refund for payment {PaymentId} of order {OrderId}: it is {Status}",
            command.PaymentId, command.OrderId, payment?.Status.ToString() ?? "unknown");
        return PaymentChanges.None();
    }
}
