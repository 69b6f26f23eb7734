namespace Conveyor.Messages;

/// <summary>Published by Payments when the provider authorized the charge for an order.</summary>
public sealed record PaymentAuthorized(
    Guid OrderId,
    Guid PaymentId,
    decimal Amount,
    string Currency,
    string ProviderReference,
    DateTimeOffset AuthorizedAt) : IEvent;
