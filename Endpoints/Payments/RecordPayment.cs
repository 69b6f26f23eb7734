using Conveyor.Messages;
using Microsoft.EntityFrameworkCore;
using Wolverine.Persistence;

namespace Conveyor.Payments;

/// <summary>
/// An order was placed: record its payment as Pending and ask for the charge. Recording first gives the
/// payment an id before any money moves, and that id is the idempotency key of every charge attempt.
/// </summary>
public static class RecordPaymentHandler
{
    public static Task<Payment?> LoadAsync(OrderPlaced placed, PaymentsDb db, CancellationToken ct) =>
        db.Payments.SingleOrDefaultAsync(p => p.OrderId == placed.OrderId, ct);

    public static (IStorageAction<Payment>, ChargePayment?) Handle(OrderPlaced placed, Payment? existing, TimeProvider clock)
    {
        // The same order again (a republished event): its payment is already under way.
        if (existing is not null) return (Storage.Nothing<Payment>(), null);

        var payment = Payment.For(placed, Guid.CreateVersion7(), clock.GetUtcNow());
        return (Storage.Insert(payment), new ChargePayment(payment.Id, payment.OrderId));
    }
}
