namespace Conveyor.Notifications;

/// <summary>
/// Notifications' own copy of what it needs to know about an order, built from OrderPlaced:
/// endpoints never ask Orders over HTTP or read its database.
/// </summary>
public sealed class OrderSummary
{
    public Guid OrderId { get; set; }
    public string CustomerId { get; set; } = "";
    public string CustomerEmail { get; set; } = "";
    public string Currency { get; set; } = "";
    public decimal Total { get; set; }
    public List<OrderSummaryLine> Lines { get; set; } = [];
    public DateTimeOffset PlacedAt { get; set; }
}

public sealed class OrderSummaryLine
{
    public required string Sku { get; init; }
    public required int Quantity { get; init; }
    public required decimal UnitPrice { get; init; }
}

public enum NotificationKind
{
    OrderConfirmed,
    OrderCancelled,
    RefundIssued,
}

/// <summary>The record that an e-mail of a kind went out for an order: the business key that stops a second one.</summary>
public sealed class SentNotification
{
    public Guid OrderId { get; set; }
    public NotificationKind Kind { get; set; }
    public string Recipient { get; set; } = "";
    public string Subject { get; set; } = "";
    public string MessageId { get; set; } = "";
    public DateTimeOffset SentAt { get; set; }
}
