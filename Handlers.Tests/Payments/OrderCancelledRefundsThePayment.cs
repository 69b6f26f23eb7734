using Conveyor.Messages;
using Conveyor.Payments;
using Wolverine.Persistence;

namespace Handlers.Tests.Payments;

public class OrderCancelledRefundsThePayment
{
    private static async Task<(Payment, PaymentProviderSimulator)> Authorized()
    {
        var provider = new PaymentProviderSimulator(Given.Clock());
        var (storage, _, _) = await ChargeForOrderHandler.Handle(Given.OrderPlaced(), null, provider, Given.Clock(), CancellationToken.None);
        return (((Insert<Payment>)storage).Entity, provider);
    }

    private static OrderCancelled Cancelled(Guid orderId) => new(orderId, CancellationReason.CustomerRequested, null, Given.Now);

    [Test]
    public async Task An_authorized_payment_is_refunded_once_and_the_refund_announced()
    {
        var (payment, provider) = await Authorized();

        var (storage, refund, messages) = await RefundOnCancellationHandler.Handle(Cancelled(payment.OrderId), payment, provider, Given.Clock(), CancellationToken.None);

        var recorded = ((Insert<Refund>)refund).Entity;
        Assert.Multiple(() =>
        {
            Assert.That(storage, Is.InstanceOf<Update<Payment>>());
            Assert.That(payment.Status, Is.EqualTo(PaymentStatus.Refunded));
            Assert.That(recorded.PaymentId, Is.EqualTo(payment.Id));
            Assert.That(recorded.RefundId, Is.EqualTo(PaymentIds.RefundFor(payment.Id)));
            Assert.That(messages.Single(), Is.EqualTo(new PaymentRefunded(payment.OrderId, payment.Id, recorded.RefundId, 62.40m, "EUR", recorded.ProviderReference, Given.Now)));
            Assert.That(provider.Refunds, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task A_refunded_payment_is_not_refunded_again()
    {
        var (payment, provider) = await Authorized();
        await RefundOnCancellationHandler.Handle(Cancelled(payment.OrderId), payment, provider, Given.Clock(), CancellationToken.None);

        var (storage, refund, messages) = await RefundOnCancellationHandler.Handle(Cancelled(payment.OrderId), payment, provider, Given.Clock(), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(storage, Is.InstanceOf<Nothing<Payment>>());
            Assert.That(refund, Is.InstanceOf<Nothing<Refund>>());
            Assert.That(messages, Is.Empty);
            Assert.That(provider.Refunds, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task An_order_cancelled_before_its_charge_is_voided_so_no_charge_follows()
    {
        var orderId = Guid.NewGuid();

        var (storage, _, messages) = await RefundOnCancellationHandler.Handle(Cancelled(orderId), null, new PaymentProviderSimulator(Given.Clock()), Given.Clock(), CancellationToken.None);

        var voided = ((Insert<Payment>)storage).Entity;
        Assert.Multiple(() =>
        {
            Assert.That(voided.Status, Is.EqualTo(PaymentStatus.Voided));
            Assert.That(voided.Id, Is.EqualTo(PaymentIds.PaymentFor(orderId)), "the same id a charge would have had: one payment per order");
            Assert.That(messages, Is.Empty);
        });
    }

    [Test]
    public async Task A_declined_payment_has_nothing_to_give_back()
    {
        var provider = new PaymentProviderSimulator(Given.Clock());
        var (storage, _, _) = await ChargeForOrderHandler.Handle(Given.OrderPlaced(PaymentProviderSimulator.Declined), null, provider, Given.Clock(), CancellationToken.None);
        var declined = ((Insert<Payment>)storage).Entity;

        var (_, refund, messages) = await RefundOnCancellationHandler.Handle(Cancelled(declined.OrderId), declined, provider, Given.Clock(), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(refund, Is.InstanceOf<Nothing<Refund>>());
            Assert.That(messages, Is.Empty);
            Assert.That(provider.Refunds, Is.Zero);
        });
    }

    [Test]
    public async Task A_refund_asked_for_by_Orders_for_an_unknown_order_gives_the_money_back()
    {
        var (payment, provider) = await Authorized();

        var (_, _, messages) = await RefundPaymentHandler.Handle(new RefundPayment(payment.OrderId, payment.Id, "unknown order"), payment, provider,
            Given.Clock(), Given.Log<RefundPayment>(), CancellationToken.None);

        Assert.That(messages.Single(), Is.InstanceOf<PaymentRefunded>());
    }
}
