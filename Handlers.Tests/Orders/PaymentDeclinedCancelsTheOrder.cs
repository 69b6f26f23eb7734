using Conveyor.Messages;
using Conveyor.Orders;

namespace Handlers.Tests.Orders;

public class PaymentDeclinedCancelsTheOrder
{
    [Test]
    public void A_placed_order_is_cancelled_with_reason_PaymentDeclined()
    {
        var order = Given.PlacedOrder();
        var declined = new PaymentDeclined(order.Id, PaymentIds.PaymentFor(order.Id), "card_declined", Given.Now);

        var cancelled = order.Handle(declined, Given.Clock());

        Assert.Multiple(() =>
        {
            Assert.That(cancelled, Is.EqualTo(new OrderCancelled(order.Id, CancellationReason.PaymentDeclined, declined.PaymentId, Given.Now)));
            Assert.That(order.Status, Is.EqualTo(OrderStatus.Cancelled));
            Assert.That(order.CancellationReason, Is.EqualTo(CancellationReason.PaymentDeclined));
            Assert.That(order.Timeline.Last().Reason, Does.Contain("card_declined"));
        });
    }

    [Test]
    public void A_decline_for_an_order_already_cancelled_by_its_deadline_changes_nothing()
    {
        var order = Given.CancelledOrder(CancellationReason.PaymentTimedOut);

        var cancelled = order.Handle(new PaymentDeclined(order.Id, PaymentIds.PaymentFor(order.Id), "card_declined", Given.Now), Given.Clock());

        Assert.Multiple(() =>
        {
            Assert.That(cancelled, Is.Null);
            Assert.That(order.CancellationReason, Is.EqualTo(CancellationReason.PaymentTimedOut));
        });
    }
}
