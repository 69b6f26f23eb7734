using Conveyor.Payments;
using Wolverine.Persistence;

namespace Handlers.Tests.Payments;

public class OrderPlacedRecordsAPendingPayment
{
    [Test]
    public void A_new_order_gets_a_pending_payment_and_a_charge_request()
    {
        var placed = Given.OrderPlaced();

        var (storage, charge) = RecordPaymentHandler.Handle(placed, existing: null, Given.Clock());

        var payment = ((Insert<Payment>)storage).Entity;
        Assert.Multiple(() =>
        {
            Assert.That(payment.OrderId, Is.EqualTo(placed.OrderId));
            Assert.That(payment.Status, Is.EqualTo(PaymentStatus.Pending));
            Assert.That(payment.Amount, Is.EqualTo(placed.Total));
            Assert.That(payment.Currency, Is.EqualTo("EUR"));
            Assert.That(charge, Is.EqualTo(new ChargePayment(payment.Id, placed.OrderId)));
        });
    }

    [Test]
    public void An_order_that_already_has_a_payment_starts_no_second_one()
    {
        var placed = Given.OrderPlaced();
        var existing = Payment.For(placed, Guid.NewGuid(), Given.Now);

        var (storage, charge) = RecordPaymentHandler.Handle(placed, existing, Given.Clock());

        Assert.Multiple(() =>
        {
            Assert.That(storage, Is.InstanceOf<Nothing<Payment>>());
            Assert.That(charge, Is.Null);
        });
    }
}
