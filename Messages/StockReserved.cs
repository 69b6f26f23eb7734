namespace Conveyor.Messages;

/// <summary>A quantity of one SKU: what an order's line asks Inventory to hold.</summary>
public sealed record StockLine(string Sku, int Quantity);

/// <summary>
/// Published by Inventory when every line of an order is reserved, all at once: the stock is held for the order
/// until it is confirmed (a sale) or cancelled (released).
/// </summary>
public sealed record StockReserved(
    Guid OrderId,
    IReadOnlyList<StockLine> Lines,
    DateTimeOffset ReservedAt) : IEvent;
