namespace Conveyor.Messages;

/// <summary>Published by Payments when the provider refused the charge for an order.</summary>
public sealed record PaymentDeclined(
    Guid OrderId,
    Guid PaymentId,
    string Reason,
    DateTimeOffset DeclinedAt) : IEvent;
