using Conveyor.Messages;
using Conveyor.Orders;

namespace Handlers.Tests.Orders;

public class PaymentAuthorizedConfirmsTheOrder
{
    private static Order PlacedOrder() =>
        Order.Place(Guid.NewGuid(), "customer-42", "ada@example.com", "EUR", [new OrderLine("BOOK", 1, 10m)], "tok_ok", Given.Now).Order;

    private static PaymentAuthorized AuthorizedFor(Order order) =>
        new(order.Id, Guid.NewGuid(), order.Total, order.Currency, "sim_ch_1", Given.Now);

    [Test]
    public void A_placed_order_is_confirmed_and_OrderConfirmed_is_published()
    {
        var order = PlacedOrder();
        var authorized = AuthorizedFor(order);
        var clock = Given.Clock();
        clock.Advance(TimeSpan.FromSeconds(2));

        var confirmed = order.Handle(authorized, clock);

        Assert.Multiple(() =>
        {
            Assert.That(confirmed, Is.EqualTo(new OrderConfirmed(order.Id, authorized.PaymentId, Given.Now.AddSeconds(2))));
            Assert.That(order.Status, Is.EqualTo(OrderStatus.Confirmed));
            Assert.That(order.PaymentId, Is.EqualTo(authorized.PaymentId));
            Assert.That(order.Timeline.Select(t => t.Status), Is.EqualTo(new[] { OrderStatus.Placed, OrderStatus.Confirmed }));
        });
    }

    [Test]
    public void The_same_authorization_delivered_again_confirms_nothing_twice()
    {
        var order = PlacedOrder();
        var authorized = AuthorizedFor(order);
        order.Handle(authorized, Given.Clock());

        var again = order.Handle(authorized, Given.Clock());

        Assert.Multiple(() =>
        {
            Assert.That(again, Is.Null);
            Assert.That(order.Timeline, Has.Count.EqualTo(2));
        });
    }
}
