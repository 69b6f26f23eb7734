using Conveyor.Messages;
using Microsoft.EntityFrameworkCore;

namespace Conveyor.Payments;

/// <summary>Answers Orders' request for the live state of an order's payment (request/reply over the broker).</summary>
public static class ReportPaymentStatusHandler
{
    public static Task<Payment?> LoadAsync(GetPaymentStatus request, PaymentsDb db, CancellationToken ct) =>
        db.Payments.AsNoTracking().SingleOrDefaultAsync(p => p.OrderId == request.OrderId, ct);

    public static PaymentStatusReport Handle(GetPaymentStatus request, Payment? payment) =>
        payment is null
            ? new PaymentStatusReport(request.OrderId, "NotStarted", null, null, null, null, null, null)
            : new PaymentStatusReport(request.OrderId, payment.Status.ToString(), payment.Id,
                payment.Status == PaymentStatus.Voided ? null : payment.Amount,
                payment.Status == PaymentStatus.Voided ? null : payment.Currency,
                payment.ProviderReference, payment.DeclineReason, payment.UpdatedAt);
}
