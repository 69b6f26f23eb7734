using Conveyor.Messages;
using Conveyor.Orders;

namespace Handlers.Tests.Orders;

public class PaymentDeadlineCancelsAnUnpaidOrder
{
    [Test]
    public void An_order_still_waiting_for_its_payment_is_cancelled_as_PaymentTimedOut()
    {
        var order = Given.PlacedOrder();

        var cancelled = order.Handle(new PaymentDeadlinePassed(order.Id), Given.Clock());

        Assert.Multiple(() =>
        {
            Assert.That(cancelled?.Reason, Is.EqualTo(CancellationReason.PaymentTimedOut));
            Assert.That(cancelled?.PaymentId, Is.Null);
            Assert.That(order.Status, Is.EqualTo(OrderStatus.Cancelled));
        });
    }

    [Test]
    public void A_confirmed_order_lets_its_deadline_pass()
    {
        var order = Given.ConfirmedOrder();

        var cancelled = order.Handle(new PaymentDeadlinePassed(order.Id), Given.Clock());

        Assert.Multiple(() =>
        {
            Assert.That(cancelled, Is.Null);
            Assert.That(order.Status, Is.EqualTo(OrderStatus.Confirmed));
        });
    }

    [Test]
    public void A_deadline_delivered_twice_cancels_once()
    {
        var order = Given.PlacedOrder();
        order.Handle(new PaymentDeadlinePassed(order.Id), Given.Clock());

        var again = order.Handle(new PaymentDeadlinePassed(order.Id), Given.Clock());

        Assert.Multiple(() =>
        {
            Assert.That(again, Is.Null);
            Assert.That(order.Timeline.Count(t => t.Status == OrderStatus.Cancelled), Is.EqualTo(1));
        });
    }
}
