using Conveyor.Hosting;
using Conveyor.Messages;
using Conveyor.Orders;

namespace Handlers.Tests.Orders;

/// <summary>
/// The saga checks what it is told: a PaymentAuthorized confirms the order only for the order's own payment (its id
/// derived from the order's), of the order's total in the order's currency. Anything else ends in error with its
/// reason (MessageValidationException, no retries) and leaves the order as it was.
/// </summary>
public class AnAuthorizationThatDoesNotMatchConfirmsNothing
{
    public static IEnumerable<TestCaseData> Mismatches()
    {
        yield return new TestCaseData((Func<PaymentAuthorized, PaymentAuthorized>)(a => a with { PaymentId = Guid.NewGuid() }), "names payment").SetName("another payment id");
        yield return new TestCaseData((Func<PaymentAuthorized, PaymentAuthorized>)(a => a with { Amount = 0.01m }), "the order's total").SetName("another amount");
        yield return new TestCaseData((Func<PaymentAuthorized, PaymentAuthorized>)(a => a with { Currency = "USD" }), "the order's total").SetName("another currency");
    }

    [TestCaseSource(nameof(Mismatches))]
    public void It_confirms_nothing_and_says_why(Func<PaymentAuthorized, PaymentAuthorized> forge, string reason)
    {
        var order = Given.PlacedOrder();

        var refused = Assert.Throws<MessageValidationException>(() => order.Handle(forge(Given.AuthorizationFor(order)), Given.Clock()));

        Assert.Multiple(() =>
        {
            Assert.That(refused!.Message, Does.Contain(reason).And.Contain(order.Id.ToString()));
            Assert.That(order.Status, Is.EqualTo(OrderStatus.Placed));
            Assert.That(order.PaymentState, Is.EqualTo(PaymentState.Pending));
        });
    }

    [Test]
    public void A_decline_or_refund_for_another_payment_changes_nothing_either()
    {
        var order = Given.PlacedOrder();
        var stranger = Guid.NewGuid();

        Assert.Multiple(() =>
        {
            Assert.Throws<MessageValidationException>(() => order.Handle(new PaymentDeclined(order.Id, stranger, "card_declined", Given.Now), Given.Clock()));
            Assert.Throws<MessageValidationException>(() => order.Handle(Given.RefundFor(order) with { PaymentId = stranger }, Given.Clock(), Given.Log<Order>()));
            Assert.That(order.Status, Is.EqualTo(OrderStatus.Placed));
        });
    }
}
