using Conveyor.Messages;
using Microsoft.Extensions.Logging;
using Wolverine.Persistence;

namespace Conveyor.Payments;

/// <summary>Charge a recorded payment at the provider. Sent by Payments to itself through its durable local queue.</summary>
public sealed record ChargePayment(Guid PaymentId, Guid OrderId);

public static class ChargePaymentHandler
{
    public static ValueTask<Payment?> LoadAsync(ChargePayment command, PaymentsDb db, CancellationToken ct) =>
        db.Payments.FindAsync([command.PaymentId], ct);

    public static async Task<(IStorageAction<Payment>, PaymentAuthorized?)> Handle(
        ChargePayment command,
        Payment? payment,
        IPaymentProvider provider,
        TimeProvider clock,
        ILogger<ChargePayment> logger,
        CancellationToken ct)
    {
        if (payment is null)
        {
            // Recorded in the same transaction that sent this command, so this cannot happen short of
            // someone deleting rows: fail loudly and let the message reach the error queue.
            throw new InvalidOperationException($"Payment {command.PaymentId} of order {command.OrderId} does not exist.");
        }

        // Already settled: a redelivered command must not charge or announce again.
        if (payment.Status != PaymentStatus.Pending) return (Storage.Nothing<Payment>(), null);

        var outcome = await provider.ChargeAsync(
            new ChargeRequest(payment.Id, payment.Amount, payment.Currency, payment.PaymentToken), ct);

        switch (outcome)
        {
            case ChargeResult.Authorized authorized:
                return (Storage.Update(payment), payment.Authorize(authorized.ProviderReference, clock.GetUtcNow()));
            case ChargeResult.Declined declined:
                payment.Decline(declined.Reason, clock.GetUtcNow());
                logger.LogWarning("Payment {PaymentId} for order {OrderId} was declined: {Reason}", payment.Id, payment.OrderId, declined.Reason);
                return (Storage.Update(payment), null);
            default:
                throw new InvalidOperationException($"Unknown charge outcome {outcome.GetType().Name}.");
        }
    }
}
