using Conveyor.Messages;
using Conveyor.Orders;

namespace Handlers.Tests.Orders;

public class MessagesForUnknownOrders
{
    [Test]
    public void Money_taken_for_an_unknown_order_is_given_back()
    {
        var authorized = new PaymentAuthorized(Guid.NewGuid(), Guid.NewGuid(), 10m, "EUR", "sim_ch_1", Given.Now);

        var refund = Order.NotFound(authorized, Given.Log<Order>());

        Assert.That(refund, Is.EqualTo(new RefundPayment(authorized.OrderId, authorized.PaymentId, refund.Reason)));
    }

    [Test]
    public void Other_messages_for_unknown_orders_are_logged_not_retried() =>
        Assert.DoesNotThrow(() =>
        {
            Order.NotFound(new PaymentDeclined(Guid.NewGuid(), Guid.NewGuid(), "card_declined", Given.Now), Given.Log<Order>());
            Order.NotFound(new PaymentRefunded(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), 1m, "EUR", "r", Given.Now), Given.Log<Order>());
            Order.NotFound(new PaymentDeadlinePassed(Guid.NewGuid()), Given.Log<Order>());
            Order.NotFound(new StockReserved(Guid.NewGuid(), [new StockLine("BOOK", 1)], Given.Now), Given.Log<Order>());
            Order.NotFound(new StockUnavailable(Guid.NewGuid(), [new StockShortfall("BOOK", 1, 0)], Given.Now), Given.Log<Order>());
            Order.NotFound(new StockReleased(Guid.NewGuid(), [new StockLine("BOOK", 1)], Given.Now), Given.Log<Order>());
        });
}
