using Conveyor.Messages;
using Conveyor.Orders;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Handlers.Tests;

/// <summary>The facts the specs start from.</summary>
internal static class Given
{
    public static readonly DateTimeOffset Now = new(2026, 11, 27, 9, 30, 0, TimeSpan.Zero);

    public static FakeTimeProvider Clock() => new(Now);

    public static OrderPlaced OrderPlaced(string paymentToken = "tok_ok", Guid? orderId = null) => new(
        OrderId: orderId ?? Guid.Parse("0193a1a0-0000-7000-8000-000000000001"),
        CustomerId: "customer-42",
        CustomerEmail: "ada@example.com",
        Currency: "EUR",
        Lines: [new OrderLine("BOOK-DDD", 1, 42.50m), new OrderLine("MUG", 2, 9.95m)],
        Total: 62.40m,
        PaymentToken: paymentToken,
        PlacedAt: Now);

    public static Order PlacedOrder() =>
        Order.Place(Guid.NewGuid(), "customer-42", "ada@example.com", "EUR", [new OrderLine("BOOK", 1, 10m)], "tok_ok", Now).Order;

    /// <summary>A placed order whose every line Inventory holds: its payment's authorization confirms it.</summary>
    public static Order ReservedOrder()
    {
        var order = PlacedOrder();
        order.Handle(StockReservedFor(order), Clock(), Log<Order>());
        return order;
    }

    public static Order ConfirmedOrder()
    {
        var order = ReservedOrder();
        order.Handle(AuthorizationFor(order), Clock());
        return order;
    }

    public static Order CancelledOrder(CancellationReason reason = CancellationReason.PaymentTimedOut)
    {
        // Stock reserved, so that only the cancellation stands between the order and its confirmation.
        var order = reason == CancellationReason.OutOfStock ? PlacedOrder() : ReservedOrder();
        switch (reason)
        {
            case CancellationReason.PaymentTimedOut: order.Handle(new PaymentDeadlinePassed(order.Id), Clock()); break;
            case CancellationReason.CustomerRequested: order.CancelAtCustomersRequest(Now); break;
            case CancellationReason.PaymentDeclined: order.Handle(new PaymentDeclined(order.Id, PaymentIds.PaymentFor(order.Id), "card_declined", Now), Clock()); break;
            case CancellationReason.OutOfStock: order.Handle(StockUnavailableFor(order), Clock(), Log<Order>()); break;
        }

        return order;
    }

    /// <summary>Payments' authorization of the order's own payment (its id derived from the order's), of its total.</summary>
    public static PaymentAuthorized AuthorizationFor(Order order) =>
        new(order.Id, PaymentIds.PaymentFor(order.Id), order.Total, order.Currency, "sim_ch_1", Now);

    public static StockReserved StockReservedFor(Order order) =>
        new(order.Id, [.. order.Lines.Select(l => new StockLine(l.Sku, l.Quantity))], Now);

    public static StockUnavailable StockUnavailableFor(Order order) =>
        new(order.Id, [.. order.Lines.Select(l => new StockShortfall(l.Sku, l.Quantity, 0))], Now);

    public static PaymentRefunded RefundFor(Order order) =>
        new(order.Id, PaymentIds.PaymentFor(order.Id), PaymentIds.RefundFor(PaymentIds.PaymentFor(order.Id)), order.Total, order.Currency, "sim_re_1", Now);

    public static NullLogger<T> Log<T>() => NullLogger<T>.Instance;
}
