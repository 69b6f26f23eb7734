using Conveyor.Messages;
using Conveyor.Notifications;
using Wolverine.Persistence;

namespace Handlers.Tests.Notifications;

public class RefundIssuedSendsOneEmail
{
    [Test]
    public void The_customer_is_told_how_much_came_back()
    {
        var order = OrderConfirmedSendsOneEmail.Summary();
        var refunded = new PaymentRefunded(order.OrderId, Guid.NewGuid(), Guid.NewGuid(), 62.40m, "EUR", "sim_re_1", Given.Now);

        var (storage, email) = NotifyRefundIssuedHandler.Handle(refunded, new(order, null), Given.Clock());

        Assert.Multiple(() =>
        {
            Assert.That(email!.Subject, Does.StartWith("Refund issued"));
            Assert.That(email.Body, Does.Contain("62.40 EUR").And.Contain("sim_re_1"));
            Assert.That(((Insert<SentNotification>)storage).Entity.Kind, Is.EqualTo(NotificationKind.RefundIssued));
        });
    }

    [Test]
    public void A_refund_mail_already_sent_is_not_sent_again()
    {
        var order = OrderConfirmedSendsOneEmail.Summary();
        var refunded = new PaymentRefunded(order.OrderId, Guid.NewGuid(), Guid.NewGuid(), 62.40m, "EUR", "sim_re_1", Given.Now);

        var (storage, email) = NotifyRefundIssuedHandler.Handle(refunded, new(order, new SentNotification { Kind = NotificationKind.RefundIssued }), Given.Clock());

        Assert.Multiple(() =>
        {
            Assert.That(email, Is.Null);
            Assert.That(storage, Is.InstanceOf<Nothing<SentNotification>>());
        });
    }
}
