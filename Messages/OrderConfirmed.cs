namespace Conveyor.Messages;

/// <summary>Published by Orders when an order's payment is authorized and the order is confirmed.</summary>
public sealed record OrderConfirmed(
    Guid OrderId,
    Guid PaymentId,
    DateTimeOffset ConfirmedAt) : IEvent;
