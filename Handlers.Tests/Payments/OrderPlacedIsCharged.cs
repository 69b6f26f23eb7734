using Conveyor.Messages;
using Conveyor.Payments;
using Wolverine.Persistence;

namespace Handlers.Tests.Payments;

public class OrderPlacedIsCharged
{
    private static Task<(IStorageAction<Payment> Payment, IStorageAction<Refund> Refund, Wolverine.OutgoingMessages Messages)> Charge(
        OrderPlaced placed, Payment? existing, IPaymentProvider provider) =>
        ChargeForOrderHandler.Handle(placed, existing, provider, Given.Clock(), CancellationToken.None);

    [Test]
    public async Task An_authorized_charge_is_recorded_and_announced()
    {
        var placed = Given.OrderPlaced(PaymentProviderSimulator.Ok);
        var provider = new PaymentProviderSimulator(Given.Clock());

        var (storage, _, messages) = await Charge(placed, null, provider);

        var payment = ((Insert<Payment>)storage).Entity;
        Assert.Multiple(() =>
        {
            Assert.That(payment.Status, Is.EqualTo(PaymentStatus.Authorized));
            Assert.That(payment.Id, Is.EqualTo(PaymentIds.PaymentFor(placed.OrderId)));
            Assert.That(payment.Amount, Is.EqualTo(62.40m));
            Assert.That(messages.Single(), Is.EqualTo(new PaymentAuthorized(placed.OrderId, payment.Id, 62.40m, "EUR", payment.ProviderReference!, Given.Now)));
            Assert.That(provider.Charges, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task A_declined_charge_is_recorded_and_announced()
    {
        var placed = Given.OrderPlaced(PaymentProviderSimulator.Declined);

        var (storage, _, messages) = await Charge(placed, null, new PaymentProviderSimulator(Given.Clock()));

        Assert.Multiple(() =>
        {
            Assert.That(((Insert<Payment>)storage).Entity.Status, Is.EqualTo(PaymentStatus.Declined));
            Assert.That(messages.Single(), Is.InstanceOf<PaymentDeclined>().With.Property(nameof(PaymentDeclined.Reason)).EqualTo("card_declined"));
        });
    }

    [Test]
    public void A_provider_outage_records_nothing_and_is_left_to_the_retries()
    {
        var provider = new PaymentProviderSimulator(Given.Clock()) { OutageActive = true };

        Assert.ThrowsAsync<PaymentProviderUnavailableException>(() => Charge(Given.OrderPlaced(), null, provider));
    }

    [Test]
    public async Task The_same_order_again_is_not_charged_again()
    {
        var placed = Given.OrderPlaced();
        var provider = new PaymentProviderSimulator(Given.Clock());
        var first = ((Insert<Payment>)(await Charge(placed, null, provider)).Payment).Entity;

        var (storage, refund, messages) = await Charge(placed, first, provider);

        Assert.Multiple(() =>
        {
            Assert.That(storage, Is.InstanceOf<Nothing<Payment>>());
            Assert.That(refund, Is.InstanceOf<Nothing<Refund>>());
            Assert.That(messages, Is.Empty);
            Assert.That(provider.Charges, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task A_retry_after_its_order_was_voided_gives_back_what_the_earlier_attempt_took()
    {
        // tok_slow: the charge went through at the provider, but meanwhile the order was cancelled and
        // Payments recorded the void, so this attempt's insert lost. The retry finds the void.
        var placed = Given.OrderPlaced(PaymentProviderSimulator.Ok);
        var provider = new PaymentProviderSimulator(Given.Clock());
        await Charge(placed, null, provider);
        var voided = Payment.VoidedBeforeCharge(placed.OrderId, Given.Now);

        var (storage, refund, messages) = await Charge(placed, voided, provider);

        Assert.Multiple(() =>
        {
            Assert.That(storage, Is.InstanceOf<Update<Payment>>());
            Assert.That(voided.Status, Is.EqualTo(PaymentStatus.Refunded));
            Assert.That(((Insert<Refund>)refund).Entity.Amount, Is.EqualTo(62.40m));
            Assert.That(messages.Single(), Is.InstanceOf<PaymentRefunded>());
            Assert.That(provider.Refunds, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task An_order_voided_before_any_charge_is_never_charged()
    {
        var placed = Given.OrderPlaced();
        var provider = new PaymentProviderSimulator(Given.Clock());

        var (storage, _, messages) = await Charge(placed, Payment.VoidedBeforeCharge(placed.OrderId, Given.Now), provider);

        Assert.Multiple(() =>
        {
            Assert.That(storage, Is.InstanceOf<Nothing<Payment>>());
            Assert.That(messages, Is.Empty);
            Assert.That(provider.Charges, Is.Zero);
        });
    }
}
