using Conveyor.Orders;
using static Conveyor.Orders.PlaceOrder;

namespace Handlers.Tests.Orders;

public class ValidatingAnOrderRequest
{
    private static Request Valid() => new("customer-42", "ada@example.com", "EUR", "tok_ok",
        [new LineRequest("BOOK", 1, 42.50m)]);

    [Test]
    public void A_complete_request_is_valid() => Assert.That(Validate(Valid()), Is.Empty);

    [Test]
    public void An_order_without_lines_is_rejected() =>
        Assert.That(Validate(Valid() with { Lines = [] }), Does.ContainKey("lines"));

    [TestCase(0)]
    [TestCase(-3)]
    public void A_quantity_of_zero_or_less_is_rejected(int quantity) =>
        Assert.That(Validate(Valid() with { Lines = [new LineRequest("BOOK", quantity, 1m)] }), Does.ContainKey("lines[0].quantity"));

    [Test]
    public void A_negative_price_is_rejected() =>
        Assert.That(Validate(Valid() with { Lines = [new LineRequest("BOOK", 1, -0.01m)] }), Does.ContainKey("lines[0].unitPrice"));

    [TestCase("EURO")]
    [TestCase("XYZ")]
    [TestCase("")]
    public void An_unknown_currency_is_rejected(string currency) =>
        Assert.That(Validate(Valid() with { Currency = currency }), Does.ContainKey("currency"));

    [TestCase("not-an-email")]
    [TestCase("ada@")]
    [TestCase("ada@localhost")]
    [TestCase("Ada <ada@example.com>")]
    public void A_malformed_email_is_rejected(string email) =>
        Assert.That(Validate(Valid() with { CustomerEmail = email }), Does.ContainKey("customerEmail"));

    [Test]
    public void A_missing_payment_token_is_rejected() =>
        Assert.That(Validate(Valid() with { PaymentToken = " " }), Does.ContainKey("paymentToken"));

    [Test]
    public void Every_invalid_field_is_reported_at_once()
    {
        var errors = Validate(new Request(null, "x", "ABC", null, [new LineRequest("", 0, -1m)]));

        Assert.That(errors.Keys, Is.EquivalentTo(new[]
        {
            "customerId", "customerEmail", "currency", "paymentToken", "lines[0].sku", "lines[0].quantity", "lines[0].unitPrice",
        }));
    }

    [Test]
    public void A_lower_case_currency_code_is_accepted() =>
        Assert.That(Iso4217.IsCurrencyCode("chf"), Is.True);

    [Test]
    public void The_fingerprint_tells_a_retry_from_a_different_order()
    {
        var original = Fingerprint(Valid());
        var retried = Fingerprint(Valid());
        var different = Fingerprint(Valid() with { Currency = "USD" });

        Assert.Multiple(() =>
        {
            Assert.That(retried, Is.EqualTo(original));
            Assert.That(different, Is.Not.EqualTo(original));
        });
    }
}
