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

    public static Order ConfirmedOrder()
    {
        var order = PlacedOrder();
        order.Handle(AuthorizationFor(order), Clock());
        return order;
    }

    public static Order CancelledOrder(CancellationReason reason = CancellationReason.PaymentTimedOut)
    {
        var order = PlacedOrder();
        switch (reason)
        {
            case CancellationReason.PaymentTimedOut: order.Handle(new PaymentDeadlinePassed(order.Id), Clock()); break;
            case CancellationReason.CustomerRequested: order.CancelAtCustomersRequest(Now); break;
            case CancellationReason.PaymentDeclined: order.Handle(new PaymentDeclined(order.Id, PaymentIds.PaymentFor(order.Id), "card_declined", Now), Clock()); break;
        }

        return order;
    }

    /// <summary>Payments' authorization of the order's own payment (its id derived from the order's), of its total.</summary>
    public static PaymentAuthorized AuthorizationFor(Order order) =>
        new(order.Id, PaymentIds.PaymentFor(order.Id), order.Total, order.Currency, "sim_ch_1", Now);

    public static PaymentRefunded RefundFor(Order order) =>
        new(order.Id, PaymentIds.PaymentFor(order.Id), PaymentIds.RefundFor(PaymentIds.PaymentFor(order.Id)), order.Total, order.Currency, "sim_re_1", Now);

    public static NullLogger<T> Log<T>() => NullLogger<T>.Instance;
}
