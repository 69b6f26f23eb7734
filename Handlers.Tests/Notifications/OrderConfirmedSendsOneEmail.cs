using Conveyor.Messages;
using Conveyor.Notifications;
using Wolverine.Persistence;

namespace Handlers.Tests.Notifications;

public class OrderConfirmedSendsOneEmail
{
    internal static OrderSummary Summary() => ((Insert<OrderSummary>)TrackOrderHandler.Handle(Given.OrderPlaced(), false)).Entity;

    [Test]
    public void The_customer_gets_a_confirmation_and_the_sending_is_recorded()
    {
        var order = Summary();

        var (storage, email) = NotifyOrderConfirmedHandler.Handle(new OrderConfirmed(order.OrderId, Guid.NewGuid(), Given.Now), new(order, null), Given.Clock());

        var sent = ((Insert<SentNotification>)storage).Entity;
        Assert.Multiple(() =>
        {
            Assert.That(email, Is.Not.Null);
            Assert.That(email!.To, Is.EqualTo("ada@example.com"));
            Assert.That(email.Subject, Does.StartWith("Your order ").And.EndWith(" is confirmed"));
            Assert.That(email.Body, Does.Contain("62.40 EUR").And.Contain("BOOK-DDD"));
            Assert.That(sent.Kind, Is.EqualTo(NotificationKind.OrderConfirmed));
            Assert.That(sent.MessageId, Is.EqualTo(email.MessageId));
        });
    }

    [Test]
    public void A_confirmation_already_sent_is_not_sent_again()
    {
        var order = Summary();
        var alreadySent = new SentNotification { OrderId = order.OrderId, Kind = NotificationKind.OrderConfirmed };

        var (storage, email) = NotifyOrderConfirmedHandler.Handle(new OrderConfirmed(order.OrderId, Guid.NewGuid(), Given.Now), new(order, alreadySent), Given.Clock());

        Assert.Multiple(() =>
        {
            Assert.That(email, Is.Null);
            Assert.That(storage, Is.InstanceOf<Nothing<SentNotification>>());
        });
    }

    [Test]
    public void A_confirmation_for_an_order_not_yet_known_waits_for_a_retry() =>
        Assert.Throws<OrderNotYetKnownException>(() =>
            NotifyOrderConfirmedHandler.Handle(new OrderConfirmed(Guid.NewGuid(), Guid.NewGuid(), Given.Now), new(null, null), Given.Clock()));

    [Test]
    public void The_same_order_always_gets_the_same_message_id()
    {
        var first = NotifyOrderConfirmedHandler.ConfirmationEmail(Summary());
        var second = NotifyOrderConfirmedHandler.ConfirmationEmail(Summary());

        Assert.That(second.MessageId, Is.EqualTo(first.MessageId).And.Contains(Summary().OrderId.ToString("N")));
    }
}
