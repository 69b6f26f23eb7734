using Conveyor.Hosting;
using Conveyor.Messages;
using Microsoft.EntityFrameworkCore;
using Wolverine;
using Wolverine.Persistence;

namespace Conveyor.Payments;

/// <summary>
/// An order was placed: charge it. The outcome (authorized or declined) is recorded with the event that
/// announces it, in one transaction. A provider failure throws, and the retries — then the error queue —
/// take over; every retry uses the same idempotency key, so the customer is charged at most once.
/// </summary>
public static class ChargeForOrderHandler
{
    public static Task<Payment?> LoadAsync(OrderPlaced placed, PaymentsDb db, CancellationToken ct) =>
        db.Payments.SingleOrDefaultAsync(p => p.OrderId == placed.OrderId, ct);

    public static async Task<PaymentDecision> Handle(
        OrderPlaced placed,
        Payment? existing,
        IPaymentProvider provider,
        TimeProvider clock,
        CancellationToken ct)
    {
        Validate(placed);
        switch (existing)
        {
            case null:
            {
                var outcome = await provider.ChargeAsync(
                    new ChargeRequest(PaymentIds.PaymentFor(placed.OrderId), placed.Total, placed.Currency, placed.PaymentToken), ct);
                var (payment, announcement) = Payment.FromCharge(placed, outcome, clock.GetUtcNow());
                return (Storage.Insert(payment), Storage.Nothing<Refund>(), [announcement]);
            }

            case { Status: PaymentStatus.Voided }:
            {
                // The order was cancelled while a charge for it was in flight (tok_slow, or a retry racing the
                // cancellation): that attempt's record lost to the void, but its money may have been taken.
                var refunded = await provider.RefundAsync(
                    new RefundRequest(existing.RefundId, existing.Id, placed.Total, placed.Currency), ct);
                if (refunded is not RefundResult.Refunded done) return PaymentChanges.None();

                var (refund, announcement) = existing.RecordRefund(done, placed.Total, placed.Currency, clock.GetUtcNow());
                return (Storage.Update(existing), Storage.Insert(refund), [announcement]);
            }

            default:
                // The same order again (a republished event): its payment is already settled.
                return PaymentChanges.None();
        }
    }

    /// <summary>An order that breaks the contract can never be charged: straight to the error queue, no retries.</summary>
    public static void Validate(OrderPlaced placed)
    {
        var problems = new List<string>();
        if (placed.Total < 0) problems.Add("total is negative");
        if (placed.Lines is not { Count: > 0 }) problems.Add("no lines");
        if (placed.Currency is not { Length: 3 }) problems.Add("currency is not an ISO 4217 code");
        if (string.IsNullOrWhiteSpace(placed.PaymentToken)) problems.Add("no payment token");
        if (problems.Count > 0) throw new MessageValidationException($"OrderPlaced {placed.OrderId} is invalid: {string.Join(", ", problems)}.");
    }
}
