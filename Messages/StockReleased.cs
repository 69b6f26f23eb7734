namespace Conveyor.Messages;

/// <summary>Published by Inventory when a cancelled order's reservation is back in stock (the saga's compensation).</summary>
public sealed record StockReleased(
    Guid OrderId,
    IReadOnlyList<StockLine> Lines,
    DateTimeOffset ReleasedAt) : IEvent;
