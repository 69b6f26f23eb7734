using Conveyor.Messages;
using Conveyor.Notifications;
using Wolverine.Persistence;

namespace Handlers.Tests.Notifications;

public class OrderCancelledSendsOneEmailWithTheReason
{
    [TestCase(CancellationReason.PaymentDeclined, "declined")]
    [TestCase(CancellationReason.PaymentTimedOut, "did not receive your payment in time")]
    [TestCase(CancellationReason.CustomerRequested, "you asked us to cancel")]
    [TestCase(CancellationReason.OutOfStock, "out of stock")]
    public void The_customer_is_told_why(CancellationReason reason, string explanation)
    {
        var order = OrderConfirmedSendsOneEmail.Summary();

        var (storage, email) = NotifyOrderCancelledHandler.Handle(new OrderCancelled(order.OrderId, reason, null, Given.Now), new(order, null), Given.Clock());

        Assert.Multiple(() =>
        {
            Assert.That(email!.Subject, Does.EndWith("was cancelled"));
            Assert.That(email.Body, Does.Contain(explanation).And.Contain(reason.ToString()));
            Assert.That(((Insert<SentNotification>)storage).Entity.Kind, Is.EqualTo(NotificationKind.OrderCancelled));
        });
    }

    [Test]
    public void A_cancellation_mail_already_sent_is_not_sent_again()
    {
        var order = OrderConfirmedSendsOneEmail.Summary();
        var sent = new SentNotification { OrderId = order.OrderId, Kind = NotificationKind.OrderCancelled };

        var (_, email) = NotifyOrderCancelledHandler.Handle(new OrderCancelled(order.OrderId, CancellationReason.PaymentTimedOut, null, Given.Now), new(order, sent), Given.Clock());

        Assert.That(email, Is.Null);
    }
}
