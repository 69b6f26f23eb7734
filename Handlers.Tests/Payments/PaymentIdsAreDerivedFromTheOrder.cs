using Conveyor.Messages;
using Conveyor.Payments;

namespace Handlers.Tests.Payments;

public class PaymentIdsAreDerivedFromTheOrder
{
    [Test]
    public void Every_attempt_for_an_order_uses_the_same_payment_id_and_so_the_same_idempotency_key()
    {
        var order = Guid.NewGuid();

        Assert.Multiple(() =>
        {
            Assert.That(PaymentIds.PaymentFor(order), Is.EqualTo(PaymentIds.PaymentFor(Guid.Parse(order.ToString()))));
            Assert.That(PaymentIds.PaymentFor(order), Is.Not.EqualTo(PaymentIds.PaymentFor(Guid.NewGuid())));
            Assert.That(PaymentIds.RefundFor(PaymentIds.PaymentFor(order)), Is.Not.EqualTo(PaymentIds.PaymentFor(order)));
            Assert.That(PaymentIds.PaymentFor(order).Version, Is.EqualTo(5));
        });
    }
}
