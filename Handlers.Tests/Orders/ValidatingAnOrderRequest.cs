using System.Text.Json;
using Conveyor.Orders;
using static Conveyor.Orders.PlaceOrder;

namespace Handlers.Tests.Orders;

public class ValidatingAnOrderRequest
{
    private const string Key = "9b0c6a4e-key";

    private static Request Valid() => new("customer-42", "ada@example.com", "EUR", "tok_ok",
        [new LineRequest("BOOK", 1)]);

    private static JsonElement Number(string json) => JsonDocument.Parse(json).RootElement.Clone();

    [Test]
    public void A_complete_request_is_valid() => Assert.That(Validate(Valid(), Key), Is.Empty);

    [Test]
    public void An_order_without_lines_is_rejected() =>
        Assert.That(Validate(Valid() with { Lines = [] }, Key), Does.ContainKey("lines"));

    [TestCase(0)]
    [TestCase(-3)]
    public void A_quantity_of_zero_or_less_is_rejected(int quantity) =>
        Assert.That(Validate(Valid() with { Lines = [new LineRequest("BOOK", quantity)] }, Key), Does.ContainKey("lines[0].quantity"));

    [TestCase("0")]
    [TestCase("42.50")]
    [TestCase("-0.01")]
    [TestCase("\"cheap\"")]
    public void Any_price_a_client_sends_is_refused_prices_come_from_the_catalog(string price) =>
        Assert.That(Validate(Valid() with { Lines = [new LineRequest("BOOK", 1, Number(price))] }, Key)["lines[0].unitPrice"][0], Does.Contain("catalog"));

    [TestCase("EURO")]
    [TestCase("XYZ")]
    [TestCase("")]
    public void An_unknown_currency_is_rejected(string currency) =>
        Assert.That(Validate(Valid() with { Currency = currency }, Key), Does.ContainKey("currency"));

    [Test]
    public void The_currency_may_be_left_out_the_catalog_has_it() =>
        Assert.That(Validate(Valid() with { Currency = null }, Key), Is.Empty);

    [TestCase("not-an-email")]
    [TestCase("ada@")]
    [TestCase("ada@localhost")]
    [TestCase("Ada <ada@example.com>")]
    public void A_malformed_email_is_rejected(string email) =>
        Assert.That(Validate(Valid() with { CustomerEmail = email }, Key), Does.ContainKey("customerEmail"));

    [Test]
    public void A_missing_payment_token_is_rejected() =>
        Assert.That(Validate(Valid() with { PaymentToken = " " }, Key), Does.ContainKey("paymentToken"));

    [TestCase(null)]
    [TestCase("")]
    [TestCase("a key with\u0000a NUL")]
    public void An_order_without_a_usable_idempotency_key_is_rejected(string? key) =>
        Assert.That(Validate(Valid(), key), Does.ContainKey(IdempotencyKeyHeader));

    [Test]
    public void Every_invalid_field_is_reported_at_once()
    {
        var errors = Validate(new Request(null, "x", "ABC", null, [new LineRequest("", 0, Number("-1"))]), idempotencyKey: null);

        Assert.That(errors.Keys, Is.EquivalentTo(new[]
        {
            "customerId", "customerEmail", "currency", "paymentToken", "lines[0].sku", "lines[0].quantity", "lines[0].unitPrice", IdempotencyKeyHeader,
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
        var different = Fingerprint(Valid() with { PaymentToken = "tok_declined" });

        Assert.Multiple(() =>
        {
            Assert.That(retried, Is.EqualTo(original));
            Assert.That(different, Is.Not.EqualTo(original));
        });
    }
}
