namespace Conveyor.Messages;

/// <summary>A line Inventory could not reserve: how many were asked for and how many were left.</summary>
public sealed record StockShortfall(string Sku, int Requested, int Available);

/// <summary>
/// Published by Inventory when an order cannot be reserved whole; nothing of it is held. Orders cancels the order
/// (<see cref="CancellationReason.OutOfStock"/>).
/// </summary>
public sealed record StockUnavailable(
    Guid OrderId,
    IReadOnlyList<StockShortfall> Short,
    DateTimeOffset CheckedAt) : IEvent;
