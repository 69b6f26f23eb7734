namespace Conveyor.Messages;

/// <summary>Published by Payments when the money taken for an order has been given back.</summary>
public sealed record PaymentRefunded(
    Guid OrderId,
    Guid PaymentId,
    Guid RefundId,
    decimal Amount,
    string Currency,
    string ProviderReference,
    DateTimeOffset RefundedAt) : IEvent;
