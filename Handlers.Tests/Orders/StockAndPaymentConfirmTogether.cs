using Conveyor.Messages;
using Conveyor.Orders;

namespace Handlers.Tests.Orders;

/// <summary>The saga waits for both answers: the payment authorized and the stock reserved, in either order.</summary>
public class StockAndPaymentConfirmTogether
{
    [Test]
    public void A_paid_order_waits_for_its_stock_and_is_confirmed_when_it_is_reserved()
    {
        var order = Given.PlacedOrder();
        var authorized = Given.AuthorizationFor(order);

        var afterPayment = order.Handle(authorized, Given.Clock());
        var clock = Given.Clock();
        clock.Advance(TimeSpan.FromSeconds(3));
        var afterStock = order.Handle(Given.StockReservedFor(order), clock, Given.Log<Order>());

        Assert.Multiple(() =>
        {
            Assert.That(afterPayment, Is.Null, "the payment alone confirms nothing");
            Assert.That(afterStock, Is.EqualTo(new OrderConfirmed(order.Id, authorized.PaymentId, Given.Now.AddSeconds(3))));
            Assert.That(order.Status, Is.EqualTo(OrderStatus.Confirmed));
            Assert.That(order.StockState, Is.EqualTo(StockState.Reserved));
        });
    }

    [Test]
    public void Reserved_stock_alone_confirms_nothing()
    {
        var order = Given.PlacedOrder();

        var confirmed = order.Handle(Given.StockReservedFor(order), Given.Clock(), Given.Log<Order>());

        Assert.Multiple(() =>
        {
            Assert.That(confirmed, Is.Null);
            Assert.That(order.Status, Is.EqualTo(OrderStatus.Placed));
            Assert.That(order.StockState, Is.EqualTo(StockState.Reserved));
        });
    }

    [Test]
    public void The_same_reservation_delivered_again_confirms_nothing_twice()
    {
        var order = Given.ConfirmedOrder();

        var again = order.Handle(Given.StockReservedFor(order), Given.Clock(), Given.Log<Order>());

        Assert.Multiple(() =>
        {
            Assert.That(again, Is.Null);
            Assert.That(order.Timeline.Select(t => t.Status), Is.EqualTo(new[] { OrderStatus.Placed, OrderStatus.Confirmed }));
        });
    }

    [Test]
    public void Stock_unavailable_cancels_the_order_out_of_stock_naming_what_is_missing()
    {
        var order = Given.PlacedOrder();
        var unavailable = new StockUnavailable(order.Id, [new StockShortfall("BOOK", 1, 0)], Given.Now);

        var cancelled = order.Handle(unavailable, Given.Clock(), Given.Log<Order>());

        Assert.Multiple(() =>
        {
            Assert.That(cancelled, Is.EqualTo(new OrderCancelled(order.Id, CancellationReason.OutOfStock, null, Given.Now)));
            Assert.That(order.Status, Is.EqualTo(OrderStatus.Cancelled));
            Assert.That(order.StockState, Is.EqualTo(StockState.Unavailable));
            Assert.That(order.Timeline[^1].Reason, Is.EqualTo("OutOfStock: BOOK 1 asked, 0 left"));
        });
    }

    [Test]
    public void A_paid_order_out_of_stock_is_cancelled_with_its_payment_so_Payments_refunds_it()
    {
        var order = Given.PlacedOrder();
        var authorized = Given.AuthorizationFor(order);
        order.Handle(authorized, Given.Clock());

        var cancelled = order.Handle(Given.StockUnavailableFor(order), Given.Clock(), Given.Log<Order>());

        Assert.Multiple(() =>
        {
            Assert.That(cancelled?.Reason, Is.EqualTo(CancellationReason.OutOfStock));
            Assert.That(cancelled?.PaymentId, Is.EqualTo(authorized.PaymentId));
            Assert.That(order.Status, Is.EqualTo(OrderStatus.Cancelled));
        });
    }

    [Test]
    public void Stock_unavailable_for_an_order_already_cancelled_changes_nothing()
    {
        var order = Given.PlacedOrder();
        order.CancelAtCustomersRequest(Given.Now);

        var cancelled = order.Handle(Given.StockUnavailableFor(order), Given.Clock(), Given.Log<Order>());

        Assert.Multiple(() =>
        {
            Assert.That(cancelled, Is.Null);
            Assert.That(order.CancellationReason, Is.EqualTo(CancellationReason.CustomerRequested));
        });
    }

    [Test]
    public void The_payment_deadline_lets_a_paid_order_wait_for_its_stock()
    {
        var order = Given.PlacedOrder();
        order.Handle(Given.AuthorizationFor(order), Given.Clock());

        var cancelled = order.Handle(new PaymentDeadlinePassed(order.Id), Given.Clock());

        Assert.Multiple(() =>
        {
            Assert.That(cancelled, Is.Null, "Inventory's answer decides a paid order");
            Assert.That(order.Status, Is.EqualTo(OrderStatus.Placed));
        });
    }

    [Test]
    public void The_payment_deadline_cancels_a_reserved_order_whose_payment_never_came()
    {
        var order = Given.ReservedOrder();

        var cancelled = order.Handle(new PaymentDeadlinePassed(order.Id), Given.Clock());

        Assert.That(cancelled?.Reason, Is.EqualTo(CancellationReason.PaymentTimedOut));
    }

    [Test]
    public void A_released_reservation_is_remembered_and_a_late_reservation_does_not_undo_it()
    {
        var order = Given.CancelledOrder(CancellationReason.CustomerRequested);

        order.Handle(new StockReleased(order.Id, [new StockLine("BOOK", 1)], Given.Now));
        var late = order.Handle(Given.StockReservedFor(order), Given.Clock(), Given.Log<Order>());

        Assert.Multiple(() =>
        {
            Assert.That(late, Is.Null);
            Assert.That(order.StockState, Is.EqualTo(StockState.Released));
            Assert.That(order.Status, Is.EqualTo(OrderStatus.Cancelled));
        });
    }
}
