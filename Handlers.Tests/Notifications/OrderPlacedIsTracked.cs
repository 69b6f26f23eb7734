using Conveyor.Notifications;
using Wolverine.Persistence;

namespace Handlers.Tests.Notifications;

public class OrderPlacedIsTracked
{
    [Test]
    public void A_new_order_is_stored_in_the_local_read_model()
    {
        var placed = Given.OrderPlaced();

        var summary = ((Insert<OrderSummary>)TrackOrderHandler.Handle(placed, alreadyTracked: false)).Entity;

        Assert.Multiple(() =>
        {
            Assert.That(summary.OrderId, Is.EqualTo(placed.OrderId));
            Assert.That(summary.CustomerEmail, Is.EqualTo("ada@example.com"));
            Assert.That(summary.Total, Is.EqualTo(62.40m));
            Assert.That(summary.Lines.Select(l => l.Sku), Is.EqualTo(new[] { "BOOK-DDD", "MUG" }));
        });
    }

    [Test]
    public void An_order_seen_before_is_not_stored_again() =>
        Assert.That(TrackOrderHandler.Handle(Given.OrderPlaced(), alreadyTracked: true), Is.InstanceOf<Nothing<OrderSummary>>());
}
