using Conveyor.Messages;
using Conveyor.Payments;
using Microsoft.Extensions.Logging.Abstractions;
using Wolverine.Persistence;

namespace Handlers.Tests.Payments;

public class ChargingThePayment
{
    private static (Payment, ChargePayment) Pending(string token)
    {
        var payment = Payment.For(Given.OrderPlaced(token), Guid.NewGuid(), Given.Now);
        return (payment, new ChargePayment(payment.Id, payment.OrderId));
    }

    private static Task<(IStorageAction<Payment>, PaymentAuthorized?)> Charge(ChargePayment command, Payment payment, IPaymentProvider provider) =>
        ChargePaymentHandler.Handle(command, payment, provider, Given.Clock(), NullLogger<ChargePayment>.Instance, CancellationToken.None);

    [Test]
    public async Task An_authorized_charge_publishes_PaymentAuthorized()
    {
        var (payment, command) = Pending(PaymentProviderSimulator.Ok);
        var provider = new PaymentProviderSimulator(Given.Clock());

        var (storage, authorized) = await Charge(command, payment, provider);

        Assert.Multiple(() =>
        {
            Assert.That(storage, Is.InstanceOf<Update<Payment>>());
            Assert.That(payment.Status, Is.EqualTo(PaymentStatus.Authorized));
            Assert.That(authorized, Is.Not.Null);
            Assert.That(authorized!.PaymentId, Is.EqualTo(payment.Id));
            Assert.That(authorized.OrderId, Is.EqualTo(payment.OrderId));
            Assert.That(authorized.Amount, Is.EqualTo(62.40m));
            Assert.That(authorized.ProviderReference, Is.EqualTo(payment.ProviderReference));
            Assert.That(provider.Charges, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task A_settled_payment_is_not_charged_or_announced_again()
    {
        var (payment, command) = Pending(PaymentProviderSimulator.Ok);
        var provider = new PaymentProviderSimulator(Given.Clock());
        await Charge(command, payment, provider);

        var (storage, authorized) = await Charge(command, payment, provider);

        Assert.Multiple(() =>
        {
            Assert.That(storage, Is.InstanceOf<Nothing<Payment>>());
            Assert.That(authorized, Is.Null);
            Assert.That(provider.Charges, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task A_declined_charge_records_the_decline_and_authorizes_nothing()
    {
        var (payment, command) = Pending(PaymentProviderSimulator.Declined);

        var (_, authorized) = await Charge(command, payment, new PaymentProviderSimulator(Given.Clock()));

        Assert.Multiple(() =>
        {
            Assert.That(authorized, Is.Null);
            Assert.That(payment.Status, Is.EqualTo(PaymentStatus.Declined));
            Assert.That(payment.DeclineReason, Is.EqualTo("card_declined"));
        });
    }

    [Test]
    public void A_provider_outage_is_a_transient_failure_left_to_the_retries()
    {
        var (payment, command) = Pending(PaymentProviderSimulator.Down);

        Assert.ThrowsAsync<PaymentProviderUnavailableException>(() => Charge(command, payment, new PaymentProviderSimulator(Given.Clock())));
        Assert.That(payment.Status, Is.EqualTo(PaymentStatus.Pending));
    }
}
