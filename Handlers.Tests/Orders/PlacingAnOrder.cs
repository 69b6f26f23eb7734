using Conveyor.Messages;
using Conveyor.Orders;

namespace Handlers.Tests.Orders;

public class PlacingAnOrder
{
    private static readonly Guid OrderId = Guid.Parse("0193a1a0-0000-7000-8000-0000000000aa");

    [Test]
    public void Stores_the_order_as_Placed_publishes_OrderPlaced_and_sets_the_payment_deadline()
    {
        var (order, placed, deadline) = Order.Place(OrderId, "customer-42", "ada@example.com", "EUR",
            [new OrderLine("BOOK", 1, 42.50m), new OrderLine("MUG", 2, 9.95m)], "tok_ok", Given.Now);

        Assert.Multiple(() =>
        {
            Assert.That(order.Status, Is.EqualTo(OrderStatus.Placed));
            Assert.That(order.Total, Is.EqualTo(62.40m));
            Assert.That(order.Timeline.Select(t => (t.Status, t.At)), Is.EqualTo(new[] { (OrderStatus.Placed, Given.Now) }));
            Assert.That(placed.OrderId, Is.EqualTo(OrderId));
            Assert.That(placed.Total, Is.EqualTo(62.40m));
            Assert.That(placed.Lines, Has.Count.EqualTo(2));
            Assert.That(placed.PaymentToken, Is.EqualTo("tok_ok"));
            Assert.That(placed.CustomerEmail, Is.EqualTo("ada@example.com"));
            Assert.That(deadline, Is.EqualTo(new PaymentDeadlinePassed(OrderId)));
        });
    }

    [Test]
    public void Decimal_money_does_not_drift()
    {
        var (order, _, _) = Order.Place(OrderId, "c", "a@example.com", "EUR",
            [new OrderLine("A", 3, 0.1m), new OrderLine("B", 7, 0.7m)], "tok_ok", Given.Now);

        Assert.That(order.Total, Is.EqualTo(5.2m));
    }
}
