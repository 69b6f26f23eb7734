using Conveyor.Messages;
using Conveyor.Orders;

namespace Handlers.Tests.Orders;

public class RefundCompletesACancelledOrder
{
    [Test]
    public void A_cancelled_order_whose_money_came_back_is_Refunded()
    {
        var order = Given.ConfirmedOrder();
        order.CancelAtCustomersRequest(Given.Now);
        var refunded = Given.RefundFor(order);

        order.Handle(refunded, Given.Clock(), Given.Log<Order>());

        Assert.Multiple(() =>
        {
            Assert.That(order.Status, Is.EqualTo(OrderStatus.Refunded));
            Assert.That(order.RefundId, Is.EqualTo(refunded.RefundId));
            Assert.That(order.RefundedAmount, Is.EqualTo(order.Total));
            Assert.That(order.Timeline.Select(t => t.Status),
                Is.EqualTo(new[] { OrderStatus.Placed, OrderStatus.Confirmed, OrderStatus.Cancelled, OrderStatus.Refunded }));
        });
    }

    [Test]
    public void The_refund_delivered_twice_is_recorded_once()
    {
        var order = Given.CancelledOrder();
        var refunded = Given.RefundFor(order);
        order.Handle(refunded, Given.Clock(), Given.Log<Order>());

        order.Handle(refunded, Given.Clock(), Given.Log<Order>());

        Assert.That(order.Timeline.Count(t => t.Status == OrderStatus.Refunded), Is.EqualTo(1));
    }

    [Test]
    public void A_refund_for_an_order_that_is_not_cancelled_is_recorded_without_changing_its_state()
    {
        var order = Given.ConfirmedOrder();

        order.Handle(Given.RefundFor(order), Given.Clock(), Given.Log<Order>());

        Assert.Multiple(() =>
        {
            Assert.That(order.Status, Is.EqualTo(OrderStatus.Confirmed));
            Assert.That(order.RefundId, Is.Not.Null);
        });
    }
}
