using Conveyor.Orders;
using static Conveyor.Orders.PlaceOrder;

namespace Handlers.Tests.Orders;

public class AnOrderIsPricedFromTheCatalog
{
    private static readonly Dictionary<string, CatalogItem> Catalog = new[]
    {
        new CatalogItem { Sku = "BOOK", Name = "Book", UnitPrice = 42.50m, Currency = "EUR", Active = true },
        new CatalogItem { Sku = "MUG", Name = "Mug", UnitPrice = 9.95m, Currency = "EUR", Active = true },
        new CatalogItem { Sku = "POSTER", Name = "Poster", UnitPrice = 15m, Currency = "EUR", Active = false },
        new CatalogItem { Sku = "HAT", Name = "Hat", UnitPrice = 20m, Currency = "USD", Active = true },
    }.ToDictionary(i => i.Sku);

    private static Request Order(string? currency, params LineRequest[] lines) => new("customer-42", "ada@example.com", currency, "tok_ok", [.. lines]);

    [Test]
    public void Each_line_gets_the_catalogs_price_and_the_order_its_currency()
    {
        var (priced, errors) = Price(Order(null, new LineRequest("BOOK", 1), new LineRequest(" MUG", 2)), Catalog);

        Assert.Multiple(() =>
        {
            Assert.That(errors, Is.Empty);
            Assert.That(priced!.Currency, Is.EqualTo("EUR"));
            Assert.That(priced.Lines.Select(l => (l.Sku, l.Quantity, l.UnitPrice)), Is.EqualTo(new[] { ("BOOK", 1, 42.50m), ("MUG", 2, 9.95m) }));
            Assert.That(priced.Lines.Sum(l => l.LineTotal), Is.EqualTo(62.40m));
        });
    }

    [Test]
    public void An_unknown_or_retired_SKU_is_named_on_its_line()
    {
        var (priced, errors) = Price(Order("EUR", new LineRequest("BOOK", 1), new LineRequest("NOPE", 1), new LineRequest("POSTER", 1)), Catalog);

        Assert.Multiple(() =>
        {
            Assert.That(priced, Is.Null);
            Assert.That(errors["lines[1].sku"][0], Does.Contain("NOPE"));
            Assert.That(errors["lines[2].sku"][0], Does.Contain("no longer for sale"));
            Assert.That(errors, Does.Not.ContainKey("lines[0].sku"));
        });
    }

    [Test]
    public void An_order_is_paid_in_one_currency_the_one_the_client_expects_if_it_says()
    {
        var mixed = Price(Order(null, new LineRequest("BOOK", 1), new LineRequest("HAT", 1)), Catalog);
        var otherThanExpected = Price(Order("USD", new LineRequest("BOOK", 1)), Catalog);
        var lowerCase = Price(Order("eur", new LineRequest("BOOK", 1)), Catalog);

        Assert.Multiple(() =>
        {
            Assert.That(mixed.Errors["lines"][0], Does.Contain("EUR and USD"));
            Assert.That(otherThanExpected.Errors["currency"][0], Does.Contain("priced in EUR"));
            Assert.That(lowerCase.Order!.Currency, Is.EqualTo("EUR"));
        });
    }
}
