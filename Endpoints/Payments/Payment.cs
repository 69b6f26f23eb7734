using Conveyor.Messages;

namespace Conveyor.Payments;

public enum PaymentStatus
{
    Pending,
    Authorized,
    Declined,
}

/// <summary>A payment for one order: recorded as Pending first, so its id can serve as the provider's idempotency key.</summary>
public sealed class Payment
{
    public Guid Id { get; set; }
    public Guid OrderId { get; set; }
    public decimal Amount { get; set; }
    public string Currency { get; set; } = "";
    public string PaymentToken { get; set; } = "";
    public PaymentStatus Status { get; set; }
    public string? ProviderReference { get; set; }
    public string? DeclineReason { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public int Version { get; set; }

    public static Payment For(OrderPlaced order, Guid paymentId, DateTimeOffset now) => new()
    {
        Id = paymentId,
        OrderId = order.OrderId,
        Amount = order.Total,
        Currency = order.Currency,
        PaymentToken = order.PaymentToken,
        Status = PaymentStatus.Pending,
        CreatedAt = now,
        UpdatedAt = now,
    };

    public PaymentAuthorized Authorize(string providerReference, DateTimeOffset now)
    {
        Status = PaymentStatus.Authorized;
        ProviderReference = providerReference;
        UpdatedAt = now;
        Version++;
        return new PaymentAuthorized(OrderId, Id, Amount, Currency, providerReference, now);
    }

    public void Decline(string reason, DateTimeOffset now)
    {
        Status = PaymentStatus.Declined;
        DeclineReason = reason;
        UpdatedAt = now;
        Version++;
    }
}
