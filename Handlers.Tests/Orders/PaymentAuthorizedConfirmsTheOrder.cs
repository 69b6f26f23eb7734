using Conveyor.Messages;
using Conveyor.Orders;

namespace Handlers.Tests.Orders;

public class PaymentAuthorizedConfirmsTheOrder
{
    [Test]
    public void A_placed_order_with_its_stock_reserved_is_confirmed_and_OrderConfirmed_is_published()
    {
        var order = Given.ReservedOrder();
        var authorized = Given.AuthorizationFor(order);
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
        var order = Given.ReservedOrder();
        var authorized = Given.AuthorizationFor(order);
        order.Handle(authorized, Given.Clock());

        var again = order.Handle(authorized, Given.Clock());

        Assert.Multiple(() =>
        {
            Assert.That(again, Is.Null);
            Assert.That(order.Timeline, Has.Count.EqualTo(2));
        });
    }

    [TestCase(CancellationReason.PaymentTimedOut)]
    [TestCase(CancellationReason.CustomerRequested)]
    [TestCase(CancellationReason.OutOfStock)]
    public void A_late_authorization_for_a_cancelled_order_confirms_nothing_but_is_remembered(CancellationReason reason)
    {
        var order = Given.CancelledOrder(reason);
        var late = Given.AuthorizationFor(order);

        var confirmed = order.Handle(late, Given.Clock());

        Assert.Multiple(() =>
        {
            Assert.That(confirmed, Is.Null, "Payments refunds it on OrderCancelled; Orders must never confirm it");
            Assert.That(order.Status, Is.EqualTo(OrderStatus.Cancelled));
            Assert.That(order.PaymentId, Is.EqualTo(late.PaymentId));
        });
    }
}
