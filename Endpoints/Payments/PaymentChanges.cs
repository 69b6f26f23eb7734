// What a Payments handler decides: the payment to store, the refund to record, the events to publish. A tuple, named
// here once: Wolverine applies each element of a returned tuple (the storage actions, then the messages through the
// outbox), where a type of our own would be published as a message.
global using PaymentDecision = (
    Wolverine.Persistence.IStorageAction<Conveyor.Payments.Payment> Payment,
    Wolverine.Persistence.IStorageAction<Conveyor.Payments.Refund> Refund,
    Wolverine.OutgoingMessages Announcements);
using Wolverine.Persistence;

namespace Conveyor.Payments;

/// <summary>The decisions the Payments handlers share: nothing to do, or the refund of an authorized payment.</summary>
internal static class PaymentChanges
{
    public static PaymentDecision None() =>
        (Storage.Nothing<Payment>(), Storage.Nothing<Refund>(), []);

    /// <summary>
    /// Refund an authorized payment under its refund id (the provider's idempotency key). Two handlers
    /// racing to refund the same payment both reach the provider with the same key, and the payment's
    /// version lets only one of them commit: one refund, one PaymentRefunded.
    /// </summary>
    public static async Task<PaymentDecision> RefundAsync(
        Payment payment, IPaymentProvider provider, TimeProvider clock, CancellationToken ct)
    {
        var outcome = await provider.RefundAsync(new RefundRequest(payment.RefundId, payment.Id, payment.Amount, payment.Currency), ct);
        if (outcome is not RefundResult.Refunded refunded)
        {
            throw new InvalidOperationException($"The provider has no charge to refund for authorized payment {payment.Id}.");
        }

        var (refund, announcement) = payment.RecordRefund(refunded, payment.Amount, payment.Currency, clock.GetUtcNow());
        return (Storage.Update(payment), Storage.Insert(refund), [announcement]);
    }
}
