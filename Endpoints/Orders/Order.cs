using Conveyor.Hosting;
using Conveyor.Messages;
using Microsoft.Extensions.Logging;
using Wolverine;

namespace Conveyor.Orders;

public enum OrderStatus
{
    Placed,
    Confirmed,
    Cancelled,
    Refunded,
}

/// <summary>One line of a stored order.</summary>
public sealed class OrderLineItem
{
    public required string Sku { get; init; }
    public required int Quantity { get; init; }
    public required decimal UnitPrice { get; init; }
}

/// <summary>The order's payment as Orders knows it from Payments' events (its read model of Payments' data).</summary>
public enum PaymentState
{
    /// <summary>No outcome yet: the charge is in flight, or being retried.</summary>
    Pending,
    Authorized,
    Declined,
    Refunded,
}

/// <summary>The order's stock as Orders knows it from Inventory's events.</summary>
public enum StockState
{
    /// <summary>No answer from Inventory yet.</summary>
    Pending,
    Reserved,
    Unavailable,
    Released,
}

/// <summary>One entry of an order's timeline: the state it reached, when, and why.</summary>
public sealed class StatusChange
{
    public required OrderStatus Status { get; init; }
    public required DateTimeOffset At { get; init; }
    public string? Reason { get; init; }
}

/// <summary>The payment deadline: scheduled when the order is placed, handled by the order saga.</summary>
public sealed record PaymentDeadlinePassed(Guid OrderId);

/// <summary>
/// The order and its lifecycle saga in one: Placed, then Confirmed once the payment is authorized and the stock
/// reserved (in either order), or Cancelled (declined, deadline passed, out of stock, customer's request), and
/// Refunded once the money taken for a cancelled order is back. Wolverine loads it by the <c>OrderId</c> of each incoming message and saves
/// it, with the messages each step returns, in one transaction. Every step is idempotent and safe out of
/// order: a message that no longer applies changes nothing and sends nothing.
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
    public CancellationReason? CancellationReason { get; set; }
    public Guid? PaymentId { get; set; }
    public PaymentState PaymentState { get; set; }
    public string? PaymentReference { get; set; }
    public string? PaymentDeclineReason { get; set; }
    public DateTimeOffset? PaymentUpdatedAt { get; set; }
    public Guid? RefundId { get; set; }
    public decimal? RefundedAmount { get; set; }
    public StockState StockState { get; set; }
    public List<StatusChange> Timeline { get; set; } = [];
    public DateTimeOffset PlacedAt { get; set; }

    /// <summary>The client's Idempotency-Key, if it sent one, and a hash of the request it came with.</summary>
    public string? IdempotencyKey { get; set; }
    public string? RequestFingerprint { get; set; }

    public bool IsCancelled => Status is OrderStatus.Cancelled or OrderStatus.Refunded;

    /// <summary>Places a new order: the order to store, the event to publish and the deadline to schedule.</summary>
    public static (Order Order, OrderPlaced Placed, PaymentDeadlinePassed Deadline) Place(
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
        return (order, placed, new PaymentDeadlinePassed(id));
    }

    /// <summary>
    /// The payment went through: the order is confirmed once its stock is reserved too — if it is this order's
    /// payment, of its total in its currency; anything else confirms nothing and ends in <c>error</c> with the reason.
    /// An authorization that arrives after the order was cancelled confirms nothing either: Payments refunds it when
    /// it sees the cancellation.
    /// </summary>
    public OrderConfirmed? Handle(PaymentAuthorized authorized, TimeProvider clock)
    {
        RequireThisOrdersPayment(authorized.PaymentId, nameof(PaymentAuthorized));
        if (authorized.Amount != Total || !string.Equals(authorized.Currency, Currency, StringComparison.Ordinal))
        {
            throw new MessageValidationException(
                $"PaymentAuthorized {authorized.PaymentId} for order {Id} is for {authorized.Amount} {authorized.Currency}, the order's total is {Total} {Currency}: it confirms nothing.");
        }

        var now = clock.GetUtcNow();
        RecordPayment(PaymentState.Authorized, authorized.PaymentId, now, reference: authorized.ProviderReference);
        return ConfirmIfReady(now);
    }

    /// <summary>Inventory holds every line: the order is confirmed once its payment is authorized too.</summary>
    public OrderConfirmed? Handle(StockReserved reserved, TimeProvider clock, ILogger<Order> logger)
    {
        if (StockState != StockState.Pending)
        {
            logger.LogWarning("Ignoring StockReserved for order {OrderId}, whose stock is already {StockState}", Id, StockState);
            return null;
        }

        StockState = StockState.Reserved;
        return ConfirmIfReady(clock.GetUtcNow());
    }

    /// <summary>
    /// Not every line can be had: the order is cancelled (OutOfStock) and Payments refunds whatever it took when it
    /// sees the cancellation. Inventory answers once per order, so a confirmed order never hears this.
    /// </summary>
    public OrderCancelled? Handle(StockUnavailable unavailable, TimeProvider clock, ILogger<Order> logger)
    {
        if (StockState != StockState.Pending)
        {
            logger.LogWarning("Ignoring StockUnavailable for order {OrderId}, whose stock is already {StockState}", Id, StockState);
            return null;
        }

        StockState = StockState.Unavailable;
        var missing = string.Join(", ", unavailable.Short.Select(s => $"{s.Sku} {s.Requested} asked, {s.Available} left"));
        return Status == OrderStatus.Placed ? Cancel(Messages.CancellationReason.OutOfStock, clock.GetUtcNow(), missing) : null;
    }

    /// <summary>The cancelled order's stock is back on the shelf (Inventory's compensation).</summary>
    public void Handle(StockReleased released) => StockState = StockState.Released;

    private OrderConfirmed? ConfirmIfReady(DateTimeOffset now)
    {
        if (Status != OrderStatus.Placed || PaymentState != PaymentState.Authorized || StockState != StockState.Reserved) return null;

        MoveTo(OrderStatus.Confirmed, now);
        ConveyorTelemetry.OrdersConfirmed.Add(1);
        return new OrderConfirmed(Id, PaymentId!.Value, now);
    }

    public OrderCancelled? Handle(PaymentDeclined declined, TimeProvider clock)
    {
        RequireThisOrdersPayment(declined.PaymentId, nameof(PaymentDeclined));
        var now = clock.GetUtcNow();
        RecordPayment(PaymentState.Declined, declined.PaymentId, now, declineReason: declined.Reason);
        return Status == OrderStatus.Placed
            ? Cancel(Messages.CancellationReason.PaymentDeclined, now, declined.Reason)
            : null;
    }

    /// <summary>Payments derives the payment id from the order id (<see cref="PaymentIds"/>): another one is not this order's.</summary>
    private void RequireThisOrdersPayment(Guid paymentId, string what)
    {
        var expected = PaymentIds.PaymentFor(Id);
        if (paymentId != expected)
        {
            throw new MessageValidationException($"{what} for order {Id} names payment {paymentId}, but this order's payment is {expected}: it changes nothing.");
        }
    }

    private void RecordPayment(PaymentState state, Guid paymentId, DateTimeOffset at, string? reference = null, string? declineReason = null)
    {
        // A refund is the last word: a late or repeated authorization does not undo it.
        if (PaymentState == PaymentState.Refunded) return;
        PaymentId = paymentId;
        PaymentState = state;
        PaymentReference = reference ?? PaymentReference;
        PaymentDeclineReason = declineReason ?? PaymentDeclineReason;
        PaymentUpdatedAt = at;
    }

    /// <summary>
    /// No payment in time: cancel. An order already paid (or cancelled) lets the deadline pass: a paid order waiting
    /// for Inventory's answer gets it, Inventory's queue is durable, and the answer either confirms or cancels it.
    /// </summary>
    public OrderCancelled? Handle(PaymentDeadlinePassed deadline, TimeProvider clock) =>
        Status == OrderStatus.Placed && PaymentState != PaymentState.Authorized ? Cancel(Messages.CancellationReason.PaymentTimedOut, clock.GetUtcNow()) : null;

    /// <summary>The money for a cancelled order is back.</summary>
    public void Handle(PaymentRefunded refunded, TimeProvider clock, ILogger<Order> logger)
    {
        RequireThisOrdersPayment(refunded.PaymentId, nameof(PaymentRefunded));
        if (RefundId is not null) return;

        var now = clock.GetUtcNow();
        RefundId = refunded.RefundId;
        RefundedAmount = refunded.Amount;
        RecordPayment(PaymentState.Refunded, refunded.PaymentId, now, reference: refunded.ProviderReference);
        if (IsCancelled)
        {
            MoveTo(OrderStatus.Refunded, now);
        }
        else
        {
            // Payments refunds only cancelled orders or orders it cannot find: worth a look, not a crash.
            logger.LogWarning("Payment {PaymentId} of order {OrderId} was refunded while the order is {Status}",
                refunded.PaymentId, Id, Status);
        }
    }

    /// <summary>Whether the customer may still cancel; null when they may, else why not.</summary>
    public string? WhyNotCancellable(DateTimeOffset now, TimeSpan cancellationWindow) =>
        Status switch
        {
            OrderStatus.Placed or OrderStatus.Cancelled or OrderStatus.Refunded => null,
            OrderStatus.Confirmed when now - PlacedAt <= cancellationWindow => null,
            _ => $"The order was placed more than {cancellationWindow.TotalDays:0.#} days ago and can no longer be cancelled.",
        };

    /// <summary>The customer cancels. Cancelling a cancelled order again changes nothing.</summary>
    public OrderCancelled? CancelAtCustomersRequest(DateTimeOffset now) =>
        Status is OrderStatus.Placed or OrderStatus.Confirmed
            ? Cancel(Messages.CancellationReason.CustomerRequested, now)
            : null;

    private OrderCancelled Cancel(CancellationReason reason, DateTimeOffset now, string? detail = null)
    {
        CancellationReason = reason;
        MoveTo(OrderStatus.Cancelled, now, detail is null ? reason.ToString() : $"{reason}: {detail}");
        ConveyorTelemetry.OrdersCancelled.Add(1, new KeyValuePair<string, object?>("reason", reason.ToString()));
        return new OrderCancelled(Id, reason, PaymentId, now);
    }

    private void MoveTo(OrderStatus status, DateTimeOffset at, string? reason = null)
    {
        Status = status;
        Timeline.Add(new StatusChange { Status = status, At = at, Reason = reason });
    }

    // Messages for an order this endpoint does not know. Each is answered on purpose, never retried into
    // the error queue: there is nothing a retry could find.

    /// <summary>Money was taken for an order nobody knows: give it back.</summary>
    public static RefundPayment NotFound(PaymentAuthorized authorized, ILogger<Order> logger)
    {
        logger.LogWarning("Payment {PaymentId} was authorized for unknown order {OrderId}; asking Payments to refund it",
            authorized.PaymentId, authorized.OrderId);
        return new RefundPayment(authorized.OrderId, authorized.PaymentId, "PaymentAuthorized for an order Orders does not know");
    }

    public static void NotFound(PaymentDeclined declined, ILogger<Order> logger) =>
        logger.LogWarning("Ignoring PaymentDeclined for unknown order {OrderId}", declined.OrderId);

    public static void NotFound(PaymentRefunded refunded, ILogger<Order> logger) =>
        logger.LogWarning("Ignoring PaymentRefunded for unknown order {OrderId}", refunded.OrderId);

    public static void NotFound(StockReserved reserved, ILogger<Order> logger) =>
        logger.LogWarning("Ignoring StockReserved for unknown order {OrderId}", reserved.OrderId);

    public static void NotFound(StockUnavailable unavailable, ILogger<Order> logger) =>
        logger.LogWarning("Ignoring StockUnavailable for unknown order {OrderId}", unavailable.OrderId);

    public static void NotFound(StockReleased released, ILogger<Order> logger) =>
        logger.LogWarning("Ignoring StockReleased for unknown order {OrderId}", released.OrderId);

    public static void NotFound(PaymentDeadlinePassed deadline, ILogger<Order> logger) =>
        logger.LogWarning("Ignoring the payment deadline of unknown order {OrderId}", deadline.OrderId);
}
