using Conveyor.Messages;
using Conveyor.Orders;

namespace Handlers.Tests.Orders;

public class CustomerCancelsAnOrder
{
    private static readonly TimeSpan Window = TimeSpan.FromDays(14);

    [Test]
    public void A_placed_order_is_cancelled_before_any_payment()
    {
        var order = Given.PlacedOrder();

        var cancelled = order.CancelAtCustomersRequest(Given.Now);

        Assert.Multiple(() =>
        {
            Assert.That(cancelled, Is.EqualTo(new OrderCancelled(order.Id, CancellationReason.CustomerRequested, null, Given.Now)));
            Assert.That(order.Status, Is.EqualTo(OrderStatus.Cancelled));
        });
    }

    [Test]
    public void A_confirmed_order_is_cancelled_naming_its_payment_for_the_refund()
    {
        var order = Given.ConfirmedOrder();

        var cancelled = order.CancelAtCustomersRequest(Given.Now);

        Assert.That(cancelled?.PaymentId, Is.EqualTo(order.PaymentId).And.Not.Null);
    }

    [Test]
    public void Cancelling_again_is_harmless()
    {
        var order = Given.PlacedOrder();
        order.CancelAtCustomersRequest(Given.Now);

        Assert.Multiple(() =>
        {
            Assert.That(order.WhyNotCancellable(Given.Now, Window), Is.Null);
            Assert.That(order.CancelAtCustomersRequest(Given.Now), Is.Null);
            Assert.That(order.Timeline.Count(t => t.Status == OrderStatus.Cancelled), Is.EqualTo(1));
        });
    }

    [Test]
    public void A_confirmed_order_past_the_cancellation_window_cannot_be_cancelled()
    {
        var order = Given.ConfirmedOrder();

        Assert.Multiple(() =>
        {
            Assert.That(order.WhyNotCancellable(Given.Now.AddDays(13), Window), Is.Null);
            Assert.That(order.WhyNotCancellable(Given.Now.AddDays(15), Window), Does.Contain("can no longer be cancelled"));
        });
    }

    [Test]
    public void A_payment_arriving_after_the_customer_cancelled_does_not_revive_the_order()
    {
        var order = Given.ReservedOrder();
        order.CancelAtCustomersRequest(Given.Now);

        var confirmed = order.Handle(Given.AuthorizationFor(order), Given.Clock());

        Assert.Multiple(() =>
        {
            Assert.That(confirmed, Is.Null);
            Assert.That(order.Status, Is.EqualTo(OrderStatus.Cancelled));
        });
    }
}
