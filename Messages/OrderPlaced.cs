namespace Conveyor.Messages;

/// <summary>
/// Published by Orders when a customer's order has been accepted and stored. Starts the payment and
/// lets other endpoints build their own read models of the order (no endpoint queries Orders).
/// </summary>
public sealed record OrderPlaced(
    Guid OrderId,
    string CustomerId,
    string CustomerEmail,
    string Currency,
    IReadOnlyList<OrderLine> Lines,
    decimal Total,
    string PaymentToken,
    DateTimeOffset PlacedAt) : IEvent;
