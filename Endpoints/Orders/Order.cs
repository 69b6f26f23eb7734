using Conveyor.Messages;
using Wolverine;

namespace Conveyor.Orders;

public enum OrderStatus
{
    Placed,
    Confirmed,
}

/// <summary>One line of a stored order.</summary>
public sealed class OrderLineItem
{
    public required string Sku { get; init; }
    public required int Quantity { get; init; }
    public required decimal UnitPrice { get; init; }
}

/// <summary>One entry of an order's timeline: the state it reached and when.</summary>
public sealed class StatusChange
{
    public required OrderStatus Status { get; init; }
    public required DateTimeOffset At { get; init; }
}

/// <summary>
/// The order and its lifecycle saga in one: Placed, then Confirmed once the payment is authorized.
/// Wolverine loads it by the <c>OrderId</c> of each incoming message and saves it, with the messages
/// each step returns, in one transaction.
/// </summary>
public sealed class Order : Saga
{
    public Guid Id { get; set; }
    public string CustomerId { get; set; } = "";
    public string CustomerEmail { get; set; } = "";
    public string Currency { get; set; } = "";
    public List<OrderLineItem> Lines { get; set; } = [];
    public decimal Total { get; set; }
    public OrderStatus Status { get; set; }
    public Guid? PaymentId { get; set; }
    public List<StatusChange> Timeline { get; set; } = [];
    public DateTimeOffset PlacedAt { get; set; }

    /// <summary>The client's Idempotency-Key, if it sent one, and a hash of the request it came with.</summary>
    public string? IdempotencyKey { get; set; }
    public string? RequestFingerprint { get; set; }

    /// <summary>Places a new order: the order to store and the event to publish with it.</summary>
    public static (Order Order, OrderPlaced Placed) Place(
        Guid id,
        string customerId,
        string customerEmail,
        string currency,
        IReadOnlyList<OrderLine> lines,
        string paymentToken,
        DateTimeOffset now)
    {
        var order = new Order
        {
            Id = id,
            CustomerId = customerId,
            CustomerEmail = customerEmail,
            Currency = currency,
            Lines = lines.Select(l => new OrderLineItem { Sku = l.Sku, Quantity = l.Quantity, UnitPrice = l.UnitPrice }).ToList(),
            Total = lines.Sum(l => l.LineTotal),
            PlacedAt = now,
        };
        order.MoveTo(OrderStatus.Placed, now);

        var placed = new OrderPlaced(id, customerId, customerEmail, currency, lines, order.Total, paymentToken, now);
        return (order, placed);
    }

    /// <summary>
    /// The payment went through: confirm the order. A repeated or late authorization for an order that
    /// is no longer waiting for its payment changes nothing and sends nothing.
    /// </summary>
    public OrderConfirmed? Handle(PaymentAuthorized authorized, TimeProvider clock)
    {
        if (Status != OrderStatus.Placed) return null;

        var now = clock.GetUtcNow();
        PaymentId = authorized.PaymentId;
        MoveTo(OrderStatus.Confirmed, now);
        return new OrderConfirmed(Id, authorized.PaymentId, now);
    }

    private void MoveTo(OrderStatus status, DateTimeOffset at)
    {
        Status = status;
        Timeline.Add(new StatusChange { Status = status, At = at });
    }
}
